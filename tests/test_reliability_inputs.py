"""Issue 16, the Python-side inputs: checkpoints never run code and refuse nonsense settings,
pose-graph ids stay exact, declared sizes are checked before allocating, integer arguments
refuse floats, torch functions refuse non-float tensors, Kalman covariances are checked."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from manif_py.equivariant import checkpoint as eq_checkpoint  # noqa: E402
from manif_py.equivariant.train import TINY as EQ_TINY, make_model  # noqa: E402
from manif_py.registration.model import checkpoint  # noqa: E402
from manif_py.registration.model.diffusion import DiffusionConfig  # noqa: E402
from manif_py.registration.model.network import NetworkConfig, RegistrationNet  # noqa: E402

torch.set_num_threads(1)
SMALL_NET = NetworkConfig(neighbours=8, feature_dim=32, local_width=16, heads=4, ffn_width=32)


class _Payload:
    """Unpickling this runs ``exec`` on a statement that writes the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('ran')",)


def _crafted(tmp_path, state):
    path, marker = tmp_path / "crafted.pt", tmp_path / "marker"
    torch.save(dict(state, payload=_Payload(marker)), path)
    return path, marker


def _registration_state():
    net = RegistrationNet(SMALL_NET)
    return {"format": checkpoint.FORMAT, "format_version": checkpoint.FORMAT_VERSION,
            "network": SMALL_NET.to_dict(), "diffusion": DiffusionConfig().to_dict(), "mode": "diffusion",
            "weights": net.state_dict()}


def test_crafted_checkpoint_does_not_run_code(tmp_path):
    path, marker = _crafted(tmp_path, _registration_state())
    with pytest.raises(ValueError, match="refused without running them") as err:
        checkpoint.load(str(path))
    assert str(path) in str(err.value)
    assert not marker.exists()
    # the payload is real: the unsafe loader would have run it
    torch.load(path, weights_only=False)
    assert marker.read_text() == "ran"


def test_raw_pickle_with_payload_is_refused_before_unpickling(tmp_path):
    path, marker = tmp_path / "raw.pt", tmp_path / "marker"
    path.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ValueError, match="not a torch checkpoint"):
        checkpoint.load(str(path))
    assert not marker.exists()


def test_register_command_refuses_crafted_checkpoint(tmp_path):
    path, marker = _crafted(tmp_path, _registration_state())
    cloud = np.random.default_rng(0).normal(size=(400, 3))
    scan, model = tmp_path / "scan.xyz", tmp_path / "model.xyz"
    np.savetxt(scan, cloud[:300])
    np.savetxt(model, cloud)
    out = subprocess.run([sys.executable, "-m", "manif_py.cli", "register", str(scan), str(model),
                          "--checkpoint", str(path)], capture_output=True, text=True, timeout=300)
    assert out.returncode != 0
    assert "refused without running them" in out.stderr
    assert not marker.exists()


def test_shipped_checkpoints_load_as_plain_data():
    for path in (checkpoint.default_checkpoint_path(), checkpoint.one_shot_checkpoint_path()):
        net, diffusion, mode = checkpoint.load(path)
        assert diffusion.steps_infer == 5 and mode in ("diffusion", "one_shot")
        assert net.parameter_count() > 10_000


def _edit(state, section, key, value):
    state = dict(state)
    state[section] = dict(state[section], **{key: value})
    return state


@pytest.mark.parametrize("section,key,value,message", [
    ("diffusion", "steps_infer", 0, "steps_infer'] must be >= 1"),
    ("diffusion", "steps_infer", -3, "steps_infer'] must be >= 1"),
    ("diffusion", "steps_infer", 2.5, "steps_infer'] must be a finite int"),
    ("diffusion", "steps_infer", True, "steps_infer'] must be a finite int"),
    ("diffusion", "steps_infer", "5", "steps_infer'] must be a finite int"),
    ("diffusion", "steps_train", 0, "steps_train'] must be >= 1"),
    ("diffusion", "schedule_offset", float("nan"), "schedule_offset'] must be a finite float"),
    ("diffusion", "sigma_infer", (0.1,), "sigma_infer'] must be a pair"),
    ("diffusion", "sigma_train", (0.1, -1.0), "sigma_train'] must be a pair"),
    ("diffusion", "extra", 1, "unknown settings"),
    ("network", "heads", 0, "heads'] must be >= 1"),
    ("network", "heads", 5, "must be a multiple"),
    ("network", "radius", float("inf"), "radius'] must be a finite float"),
    ("network", "radius", -0.2, "radius'] must be > 0"),
    ("network", "feature_dim", 10 ** 5, "does not match this version's network"),
    ("network", "feature_dim", 10 ** 12, "do not build a network"),
    ("network", "n_source", None, "n_source'] must be a finite int"),
])
def test_nonsense_registration_settings_are_refused(tmp_path, section, key, value, message):
    path = tmp_path / "nonsense.pt"
    torch.save(_edit(_registration_state(), section, key, value), path)
    with pytest.raises(ValueError, match=message) as err:
        checkpoint.load(str(path))
    assert str(path) in str(err.value)


def test_nan_weights_and_bad_mode_are_refused(tmp_path):
    state = _registration_state()
    name = next(iter(state["weights"]))
    state["weights"] = dict(state["weights"])
    state["weights"][name] = state["weights"][name].clone().fill_(float("nan"))
    path = tmp_path / "nan.pt"
    torch.save(state, path)
    with pytest.raises(ValueError, match=f"weight '{name}' contains NaN"):
        checkpoint.load(str(path))
    torch.save(dict(_registration_state(), mode="sideways"), path)
    with pytest.raises(ValueError, match="mode must be"):
        checkpoint.load(str(path))
    torch.save(dict(_registration_state(), weights={}), path)
    with pytest.raises(ValueError, match="weights are not"):
        checkpoint.load(str(path))


def test_saved_checkpoint_round_trips_with_numpy_values(tmp_path):
    path = tmp_path / "model.pt"
    net = RegistrationNet(SMALL_NET)
    # numpy scalars in the extras (a loss history) are saved as plain numbers
    checkpoint.save(str(path), net, DiffusionConfig(), "one_shot", {"history": [{"loss": np.float64(0.5)}]})
    loaded, diffusion, mode = checkpoint.load(str(path))
    assert mode == "one_shot" and diffusion == DiffusionConfig()
    assert checkpoint.read(str(path))["history"] == [{"loss": 0.5}]
    for a, b in zip(net.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b)


# ---- train-equivariant checkpoints ------------------------------------------------------


def _equivariant_state(model_name="so2"):
    cfg = dict(EQ_TINY, model=model_name, seed=0, dtype="float32", tiny=True, channels=list(EQ_TINY["channels"]))
    model = make_model(cfg)
    return dict(model=model.state_dict(), config=cfg, params=sum(p.numel() for p in model.parameters()),
                history=[], epoch=0)


def test_equivariant_checkpoint_round_trips_and_refuses_payload(tmp_path):
    path = tmp_path / "checkpoint.pt"
    eq_checkpoint.save(_equivariant_state(), str(path))
    state = eq_checkpoint.read(str(path), make_model)
    assert state["config"]["model"] == "so2"
    crafted, marker = _crafted(tmp_path, dict(format=eq_checkpoint.FORMAT,
                                              format_version=eq_checkpoint.FORMAT_VERSION, **_equivariant_state()))
    with pytest.raises(ValueError, match="refused without running them"):
        eq_checkpoint.read(str(crafted), make_model)
    from manif_py.equivariant.evaluate import load_run

    run = tmp_path / "run"
    run.mkdir()
    os.replace(crafted, run / "checkpoint.pt")
    with pytest.raises(ValueError, match="refused without running them"):
        load_run(str(run), "cpu")
    assert not marker.exists()


@pytest.mark.parametrize("key,value,message", [
    ("model", "resnet", "must be one of"),
    ("dtype", "load", "must be one of"),
    ("num_samples", 0, "must be >= 1"),
    ("epochs", 1.5, "must be a finite int"),
    ("lr", float("nan"), "must be a finite float"),
    ("channels", [4, 0, 4], "channels'] must be a non-empty list"),
    ("channels", [4, 4, 4, 4, 4], "does not match this version's network"),
    ("rotate_input", "yes", "must be a bool"),
])
def test_nonsense_equivariant_settings_are_refused(tmp_path, key, value, message):
    state = _equivariant_state()
    state["config"] = dict(state["config"], **{key: value})
    path = tmp_path / "checkpoint.pt"
    eq_checkpoint.save(state, str(path))
    with pytest.raises(ValueError, match=message) as err:
        eq_checkpoint.read(str(path), make_model)
    assert str(path) in str(err.value)


def test_equivariant_checkpoint_without_format_is_refused(tmp_path):
    path = tmp_path / "checkpoint.pt"
    torch.save(_equivariant_state(), path)
    with pytest.raises(ValueError, match="not a manif_py train-equivariant checkpoint"):
        eq_checkpoint.read(str(path), make_model)


# ---- pose-graph ids and files ------------------------------------------------------------

import manif_py as mp  # noqa: E402
from manif_py import estimation as est  # noqa: E402
from manif_py.estimation.sim3_g2o import read_sim3_g2o  # noqa: E402

GTSAM_KEYS = (8646911284551352320, 8646911284551352321)  # Symbol('x', 0) and Symbol('x', 1)
_INFO3 = "1 0 0 1 0 1"


def _write_text(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_64bit_ids_stay_exact_and_distinct(tmp_path):
    a, b = GTSAM_KEYS
    text = f"VERTEX_SE2 {a} 0 0 0\nVERTEX_SE2 {b} 1 0 0\nEDGE_SE2 {a} {b} 1 0 0 {_INFO3}\nFIX {a}\n"
    data = est.read_graph(_write_text(tmp_path, "keys.g2o", text))
    assert data.pose_ids.tolist() == [a, b]
    assert data.edges.tolist() == [[a, b]] and data.fixed_ids.tolist() == [a]
    assert data.pose_keys([b]).tolist() == [1]
    out = tmp_path / "again.g2o"
    est.write_g2o(out, data)
    assert est.read_graph(out).pose_ids.tolist() == [a, b]
    # 2^53 + 1 is the first integer a double cannot hold
    big = 2 ** 53 + 1
    chain = est.read_graph(_write_text(tmp_path, "chain.g2o", f"EDGE_SE2 {big} {big + 2} 1 0 0 {_INFO3}\n"))
    assert chain.pose_ids.tolist() == [big, big + 2]


@pytest.mark.parametrize("token", [str(2 ** 63), str(2 ** 64 + 5), "-1", "1.5", "1e3", "0x10", "1_000", "٣"])
def test_ids_that_do_not_fit_are_refused_naming_the_line(tmp_path, token):
    text = f"VERTEX_SE2 0 0 0 0\nVERTEX_SE2 {token} 1 0 0\n"
    with pytest.raises(ValueError, match=r"ids\.g2o:2: VERTEX_SE2: (ids must be non-negative integers|id .* too large)"):
        est.read_graph(_write_text(tmp_path, "ids.g2o", text))


def test_largest_id_is_read(tmp_path):
    top = 2 ** 63 - 1
    data = est.read_graph(_write_text(tmp_path, "top.g2o", f"VERTEX_SE2 {top} 0 0 0\nVERTEX_SE2 0 1 0 0\n"
                                                         f"EDGE_SE2 {top} 0 1 0 0 {_INFO3}\n"))
    assert data.pose_ids.tolist() == [top, 0]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n# and another\n", "FIX 0\n"])
def test_empty_or_comment_only_graph_names_the_file(tmp_path, text):
    path = _write_text(tmp_path, "empty.g2o", text)
    with pytest.raises((ValueError, KeyError), match=r"empty\.g2o"):
        est.read_graph(path)


@pytest.mark.parametrize("blob", [bytes(range(256)) * 4, b"VERTEX_SE2 0 0 0 0\n\x00\x01\x02", b"\xff\xfe\x00V",
                                  b"VERTEX_SE2 0 0 0 0\nVERTEX_SE2 1 \xe9 0 0\n"])
def test_binary_graph_files_name_the_file(tmp_path, blob):
    path = tmp_path / "blob.g2o"
    path.write_bytes(blob)
    with pytest.raises(ValueError, match=r"blob\.g2o"):
        est.read_graph(path)
    with pytest.raises(ValueError, match=r"blob\.g2o"):
        read_sim3_g2o(path)


def test_sim3_g2o_ids_are_exact(tmp_path):
    a, b = GTSAM_KEYS
    info = " ".join("1" if i == j else "0" for i in range(7) for j in range(i, 7))
    text = (f"VERTEX_SIM3:QUAT {a} 0 0 0 0 0 0 1 1\nVERTEX_SIM3:QUAT {b} 1 0 0 0 0 0 1 1\n"
            f"EDGE_SIM3:QUAT {a} {b} 1 0 0 0 0 0 1 1 {info}\n")
    graph, ids = read_sim3_g2o(_write_text(tmp_path, "sim3.g2o", text))
    assert ids.tolist() == [a, b] and graph.num_variables == 2
    with pytest.raises(ValueError, match=r"sim3\.g2o:1: id .* too large"):
        read_sim3_g2o(_write_text(tmp_path, "sim3.g2o", text.replace(str(a), str(2 ** 64))))
