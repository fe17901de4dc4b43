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


# ---- point-cloud files: declared sizes are checked before allocating -------------------------

import struct  # noqa: E402
import tracemalloc  # noqa: E402

from manif_py.pointcloud import readers as pc_readers  # noqa: E402
from manif_py.pointcloud.lzf import LZFError, lzf_compress, lzf_decompress  # noqa: E402

_PCD_HEAD = "VERSION .7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH {n}\nHEIGHT 1\nPOINTS {n}\nDATA {mode}\n"


def _peak_bytes(fn):
    """(exception raised by fn, peak bytes traced while it ran)."""
    tracemalloc.start()
    try:
        fn()
    except ValueError as exc:
        caught = exc
    else:
        caught = None
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return caught, peak


def test_compressed_pcd_claiming_4gb_fails_without_allocating(tmp_path):
    n = 4 * 2 ** 30 // 12 - 1  # points whose data would take ~4 GiB
    head = _PCD_HEAD.format(n=n, mode="binary_compressed").encode()
    blob = head + struct.pack("<II", 8, n * 12) + b"\x07" + b"\x00" * 8
    path = tmp_path / "liar.pcd"
    path.write_bytes(blob)
    caught, peak = _peak_bytes(lambda: pc_readers.read_point_cloud(path))
    assert caught is not None and "liar.pcd" in str(caught)
    assert "at least" in str(caught)
    assert peak < 1_000_000, f"allocated {peak} bytes"
    # the size word alone (header honest about the points) is also refused before decoding
    blob = _PCD_HEAD.format(n=2, mode="binary_compressed").encode() + struct.pack("<II", 8, 2 ** 32 - 1) + b"\x00" * 8
    path.write_bytes(blob)
    caught, peak = _peak_bytes(lambda: pc_readers.read_point_cloud(path))
    assert caught is not None and "liar.pcd" in str(caught) and peak < 1_000_000


def test_lzf_refuses_an_impossible_size_before_allocating():
    caught, peak = _peak_bytes(lambda: lzf_decompress(b"\x00a", 2 ** 32))
    assert isinstance(caught, LZFError) and "at most 176" in str(caught)
    assert peak < 1_000_000
    data = bytes(range(40)) * 50 + b"\x00" * 5000  # compressible and incompressible parts
    assert lzf_decompress(lzf_compress(data), len(data)) == data
    assert lzf_decompress(lzf_compress(b"\x00" * 100_000), 100_000) == b"\x00" * 100_000


@pytest.mark.parametrize("mode", ["binary", "ascii"])
def test_pcd_point_count_beyond_the_file_is_refused(tmp_path, mode):
    path = tmp_path / "many.pcd"
    path.write_bytes(_PCD_HEAD.format(n=10 ** 12, mode=mode).encode() + b"1 2 3\n")
    caught, peak = _peak_bytes(lambda: pc_readers.read_point_cloud(path))
    assert caught is not None and "many.pcd" in str(caught) and "need at least" in str(caught)
    assert peak < 1_000_000
    path.write_bytes(_PCD_HEAD.format(n=-3, mode=mode).encode() + b"1 2 3\n")
    with pytest.raises(ValueError, match=r"many\.pcd: .*sizes must be positive"):
        pc_readers.read_point_cloud(path)


@pytest.mark.parametrize("fmt", ["ascii 1.0", "binary_little_endian 1.0", "binary_big_endian 1.0"])
def test_ply_element_count_beyond_the_file_is_refused(tmp_path, fmt):
    path = tmp_path / "many.ply"
    head = (f"ply\nformat {fmt}\nelement vertex 4000000000\nproperty float x\nproperty float y\n"
            "property float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n")
    path.write_bytes(head.encode() + b"\x00" * 40)
    caught, peak = _peak_bytes(lambda: pc_readers.read_point_cloud(path))
    assert caught is not None and "many.ply" in str(caught) and "4000000000 'vertex'" in str(caught)
    assert peak < 1_000_000
    path.write_bytes(head.replace("4000000000", "-1").encode() + b"\x00" * 40)
    with pytest.raises(ValueError, match=r"many\.ply: .*negative count"):
        pc_readers.read_point_cloud(path)


def test_honest_ply_files_still_read(tmp_path):
    pts = np.random.default_rng(1).normal(size=(5, 3))
    path = tmp_path / "ok.ply"
    body = "".join(f"{x} {y} {z}\n" for x, y, z in pts)
    path.write_text(f"ply\nformat ascii 1.0\nelement vertex 5\nproperty double x\nproperty double y\n"
                    f"property double z\nend_header\n{body}".rstrip("\n"))  # no final newline
    np.testing.assert_allclose(pc_readers.read_point_cloud(path).points, pts)
    bin_path = tmp_path / "ok_bin.ply"
    bin_path.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 5\nproperty double x\n"
                         b"property double y\nproperty double z\nend_header\n" + pts.astype("<f8").tobytes())
    np.testing.assert_allclose(pc_readers.read_point_cloud(bin_path).points, pts)


def test_off_with_negative_counts_is_refused(tmp_path):
    path = tmp_path / "neg.off"
    path.write_text("OFF\n-1 -1 0\n0 0 0\n")
    with pytest.raises(ValueError, match=r"neg\.off: .*counts must be >= 0"):
        pc_readers.read_point_cloud(path)


@pytest.mark.parametrize("index", ["3", "-1", str(2**70)])
def test_off_face_outside_the_vertices_is_refused(tmp_path, index):
    # 2**70 used to escape as an OverflowError when the faces became an int64 array.
    path = tmp_path / "face.off"
    path.write_text(f"OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 {index}\n")
    with pytest.raises(ValueError, match=r"face\.off: .*outside \[0, 3\)"):
        pc_readers.read_point_cloud(path)


# ---- integer arguments refuse floats; torch functions refuse non-float tensors ------------------

from manif_py import decomp_torch  # noqa: E402
from manif_py import torch as mpt  # noqa: E402
from manif_py._integers import as_int  # noqa: E402
from manif_py.registration import kernels  # noqa: E402


@pytest.mark.parametrize("value", [2.7, 3.0, np.float64(2.0), True, np.bool_(True), "3", None, 1 + 0j])
def test_as_int_refuses_non_integers_naming_the_argument(value):
    with pytest.raises(TypeError, match=r"fn: argument 'k' must be an integer"):
        as_int(value, "k", "fn")


@pytest.mark.parametrize("value,expected", [(3, 3), (np.int32(4), 4), (np.uint64(5), 5), (np.array(6), 6),
                                            (torch.tensor(7), 7), (-2, -2)])
def test_as_int_accepts_integers(value, expected):
    out = as_int(value, "k")
    assert out == expected and type(out) is int


def test_float_counts_are_refused_where_they_used_to_be_truncated():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(5, 3)), rng.normal(size=(8, 3))
    with pytest.raises(TypeError, match=r"knn: argument 'k' must be an integer, got float 2.7"):
        kernels.knn(A, B, 2.7)
    with pytest.raises(TypeError, match=r"knn_batch: argument 'k'"):
        kernels.knn_batch(A[None], B[None], 2.0)
    with pytest.raises(TypeError, match=r"cosine_schedule: argument 'T' must be an integer, got float 10.7"):
        kernels.cosine_schedule(10.7)
    with pytest.raises(TypeError, match=r"estimate_normals: argument 'k'"):
        kernels.estimate_normals(B, 4.5)
    idx, _ = kernels.knn(A, B, np.int64(2))
    assert idx.shape == (5, 2)
    assert kernels.cosine_schedule(np.int32(10))["alpha_bar"].shape == (11,)
    g = est.FactorGraph()
    g.add_variable(mp.SE2.Identity())
    with pytest.raises(TypeError, match=r"value: argument 'key' must be an integer, got float 0.9"):
        g.value(0.9)
    with pytest.raises(TypeError, match=r"fix: argument 'key'"):
        g.fix(0.0)
    assert g.value(np.int64(0)).coeffs().shape == (4,)
    with pytest.raises(TypeError, match=r"Values: argument 'key'"):
        g.values()[0.5]


@pytest.mark.parametrize("dtype", [torch.complex128, torch.int64, torch.int32, torch.bool, torch.uint8])
def test_torch_ops_refuse_non_float_tensors(dtype):
    X = mpt.SO3.Exp(torch.zeros(3, dtype=torch.float64))
    bad = torch.ones(3, dtype=dtype)
    with pytest.raises(TypeError, match=r"argument 'tau' must be a float32 or float64 tensor, got torch\."):
        mpt.SO3.Exp(bad)
    with pytest.raises(TypeError, match=r"argument 'tau' must be a float32 or float64 tensor"):
        mpt.SO3.rplus(X, bad)
    with pytest.raises(TypeError, match=r"argument 'points' must be a float32 or float64 tensor"):
        mpt.SO3.act(X, bad)
    with pytest.raises(TypeError, match=r"argument 'g' must be a float32 or float64 tensor"):
        decomp_torch.haar_weight(torch.ones(2, 2, 2, dtype=dtype))
    with pytest.raises(TypeError, match=r"argument 'x' must be a float32 or float64 tensor"):
        decomp_torch.hat("gl2", torch.ones(2, 4, dtype=dtype))


def test_torch_ops_refuse_non_float_arrays_and_scalars_but_take_number_lists():
    X = mpt.SE2.Exp(torch.zeros(3, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"argument 'tau' must be a float32 or float64 tensor, got int64"):
        mpt.SE2.Exp(np.ones(3, dtype=np.int64))
    with pytest.raises(TypeError, match=r"argument 't' must be a float32 or float64 tensor, got bool"):
        mpt.SE2.interp(X, X, True)
    with pytest.raises(TypeError, match=r"argument 'tau'"):
        mpt.SE2.Exp([1j, 0, 0])
    out = mpt.SE2.Exp([0, 0, 1])  # a list of Python numbers is a literal, converted
    assert out.is_floating_point() and out.shape == (4,)
    assert mpt.SE2.interp(X, X, 0.5).dtype == torch.float64


# ---- Kalman filter covariances ---------------------------------------------------------------

from manif_py.estimation.kalman import SingularInnovationError  # noqa: E402

_BAD_COVARIANCES = [
    (-np.eye(3), "must be positive semi-definite, got smallest eigenvalue -1"),
    (np.array([[1.0, 0.5, 0], [0, 1, 0], [0, 0, 1]]), "must be a symmetric covariance"),
    (np.array([[1.0, 2.0, 0], [2.0, 1, 0], [0, 0, 1]]), "must be positive semi-definite"),
    (np.full((3, 3), np.nan), "contains NaN or inf"),
    (np.eye(2), r"must have shape \(3, 3\)"),
]


@pytest.mark.parametrize("P,message", _BAD_COVARIANCES)
def test_kalman_refuses_bad_covariances_naming_the_argument(P, message):
    X = mp.SE2.Identity()
    with pytest.raises(ValueError, match=f"argument 'P0' {message}" if "shape" not in message and "NaN" not in message
                       else message):
        est.ErrorStateKalmanFilter(X, P)
    kf = est.ErrorStateKalmanFilter(X, np.eye(3))
    with pytest.raises(ValueError, match="argument 'Q'"):
        kf.predict(np.zeros(3), P)
    H = np.eye(3)
    with pytest.raises(ValueError, match="argument 'R'"):
        kf.correct(np.zeros(3), H, P)
    with pytest.raises(ValueError, match="argument 'R'"):
        kf.nis(np.zeros(3), H, P)


def test_kalman_accepts_semidefinite_and_refuses_a_singular_innovation():
    X = mp.SE2.Identity()
    kf = est.ErrorStateKalmanFilter(X, np.zeros((3, 3)))  # a perfectly known start is a valid covariance
    kf.predict(np.array([1.0, 0, 0]), np.diag([0.1, 0.1, 0.0]))
    H = np.array([[0.0, 0.0, 1.0]])  # the heading, which no noise has touched
    with pytest.raises(SingularInnovationError, match=r"innovation covariance S = H P H\^T \+ R .* singular"):
        kf.correct(np.array([0.1]), H, np.zeros((1, 1)))
    with pytest.raises(np.linalg.LinAlgError):  # still catchable as numpy's error
        kf.nis(np.array([0.1]), H, np.zeros((1, 1)))
    before = kf.X.coeffs().copy()
    dx = kf.correct(np.array([0.1]), H, np.eye(1) * 0.01)
    assert np.all(np.isfinite(dx)) and np.allclose(kf.X.coeffs(), before)  # heading certain: no change
    assert np.all(np.linalg.eigvalsh(kf.P) >= -1e-12)


# ---- extreme scales: factorised at unit scale, or refused truthfully ------------------------------

from manif_py import decomp  # noqa: E402

_G2 = np.array([[[1.2, 0.3], [-0.4, 0.9]]])
_G3 = np.array([[[1.2, 0.3, 0.1], [-0.4, 0.9, 0.2], [0.1, 0.0, 1.1]]])


@pytest.mark.parametrize("g", [_G2, _G3], ids=["2x2", "3x3"])
@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e-155, 1e155, 1e160, 1e300])
def test_polar_is_right_at_extreme_scales(g, scale):
    P1, R1 = decomp.polar(g)
    P, R = decomp.polar(g * scale)
    np.testing.assert_allclose(R, R1, atol=1e-14)
    np.testing.assert_allclose(P / scale, P1, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose((P @ R) / scale, g, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("g", [_G2, _G3], ids=["2x2", "3x3"])
def test_haar_weight_at_extreme_scales(g):
    n = g.shape[-1]
    w1 = decomp.haar_weight(g)
    for scale in (1e-100, 1e100, 1e-150 if n == 2 else 1e-100):
        np.testing.assert_allclose(decomp.haar_weight(g * scale) * scale ** n, w1, rtol=1e-13)
    # 1 / det(1e-155 g) is about 1e310: beyond double, and said so (not "singular")
    with pytest.raises(ValueError, match="overflows"):
        decomp.haar_weight(g * 1e-155 if n == 2 else g * 1e-105)


def test_polar_of_singular_and_subnormal_matrices():
    with pytest.raises(ValueError, match="numerically singular"):
        decomp.polar(np.array([[[1.0, 2.0], [1.0, 2.0 + 4e-16]]]))
    with pytest.raises(ValueError, match="numerically singular"):
        decomp.polar(np.array([[[1.0, 2.0], [1.0, 2.0 + 4e-16]]]) * 1e-200)
    # subnormal entries (below 2.2e-308) of a well-conditioned matrix: right to their precision
    P, R = decomp.polar(_G2 * 1e-310)
    np.testing.assert_allclose(R, decomp.polar(_G2)[1], atol=1e-12)
    np.testing.assert_allclose((P @ R) / 1e-310, _G2, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("scale", [1e-200, 1e-100, 1e100, 1e200, 1e300])
def test_weighted_procrustes_at_extreme_scales(scale):
    rng = np.random.default_rng(3)
    src = rng.normal(size=(1, 40, 3))
    R_true = mp.SO3.Exp(np.array([0.3, -0.5, 0.8])).rotation()
    tgt = src @ R_true.T + np.array([0.5, -0.2, 0.1]) + 0.01 * rng.normal(size=src.shape)
    w = rng.uniform(0.5, 1.5, size=(1, 40))
    R1, t1, ok1 = kernels.weighted_procrustes(src, tgt, w)
    R, t, ok = kernels.weighted_procrustes(src * scale, tgt * scale, w)
    assert ok.all() and ok1.all()
    np.testing.assert_allclose(R, R1, atol=1e-12)
    np.testing.assert_allclose(t / scale, t1, rtol=1e-12, atol=1e-12)
    # the gradient through the rotation scales as 1 / scale (with dL/dt = 0), dL/dw not at all
    gR = rng.normal(size=(1, 3, 3))
    gt = np.zeros((1, 3))
    gs1, gy1, gw1 = kernels.weighted_procrustes_backward(src, tgt, w, R1, t1, gR, gt)
    gs, gy, gw = kernels.weighted_procrustes_backward(src * scale, tgt * scale, w, R, t, gR, gt)
    np.testing.assert_allclose(gs * scale, gs1, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gy * scale, gy1, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gw, gw1, rtol=1e-9, atol=1e-12)
