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
