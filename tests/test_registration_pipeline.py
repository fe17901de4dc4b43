"""The registration pipeline: network, diffusion training, checkpoints, pose estimation, CLI."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from manif_py.registration.model import checkpoint  # noqa: E402
from manif_py.registration.evaluation import metrics  # noqa: E402
from manif_py.registration import poses  # noqa: E402
from manif_py.registration.synthetic.dataset import DataConfig, PairDataset, collate, held_out_problem  # noqa: E402
from manif_py.registration.model.diffusion import DiffusionConfig, TrainingObjective, noised_inputs  # noqa: E402
from manif_py.registration.model.network import NetworkConfig, RegistrationNet  # noqa: E402
from manif_py.registration.pipeline import estimate_pose  # noqa: E402

torch.set_num_threads(1)
TINY = NetworkConfig(neighbours=8, feature_dim=32, local_width=16, heads=4, ffn_width=32)


def _batch(n=2, seed=0):
    data = PairDataset(size=n, seed=seed, cfg=DataConfig(n_source=64, n_model=96))
    return collate([data[i] for i in range(n)], TINY.neighbours)


def test_network_is_equivariant_in_its_output_form():
    """f returns a proper rotation and a translation of the right shapes."""
    torch.manual_seed(0)
    net = RegistrationNet(TINY)
    b = _batch()
    R, t, extras = net(b["src"], b["src_normals"], b["tgt"], b["tgt_normals"], b["src_idx"], b["tgt_idx"])
    assert R.shape == (2, 3, 3) and t.shape == (2, 3)
    eye = torch.eye(3).expand(2, 3, 3)
    assert torch.allclose(R.transpose(1, 2) @ R, eye, atol=1e-5)
    assert torch.allclose(torch.det(R), torch.ones(2), atol=1e-5)
    assert extras["weights"].shape == (2, 64) and bool(((extras["weights"] > 0) & (extras["weights"] < 1)).all())


def test_reverse_diffusion_is_deterministic_unless_the_noise_is_asked_for():
    """The default (noise off) ignores the seed; with noise=True the seed draws the injected noise."""
    from manif_py.registration.model.diffusion import reverse_diffusion

    torch.manual_seed(0)
    net = RegistrationNet(TINY).eval()
    b = _batch()
    clouds = (b["src"], b["src_normals"], b["tgt"], b["tgt_normals"])
    cfg = DiffusionConfig()
    quiet = [reverse_diffusion(net, *clouds, cfg, seed=s) for s in (0, 1)]
    noisy = [reverse_diffusion(net, *clouds, cfg, noise=True, seed=s) for s in (0, 1, 1)]
    np.testing.assert_array_equal(quiet[0], quiet[1])
    np.testing.assert_array_equal(noisy[1], noisy[2])
    assert not np.allclose(noisy[0], noisy[1]) and not np.allclose(noisy[0], quiet[0])


def test_training_objective_backpropagates_and_learns():
    """A few Adam steps on one fixed batch lower both loss terms."""
    torch.manual_seed(0)
    net = RegistrationNet(TINY)
    objective = TrainingObjective(net)
    b = _batch()
    rngs = [np.random.default_rng([0, i]) for i in b["index"]]
    Ht, t = noised_inputs(b["H0"], rngs, DiffusionConfig())
    assert Ht.shape == (2, 7) and t.min() >= 1 and t.max() <= 200
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    first = None
    for _ in range(25):
        loss, logs = objective(b, Ht)
        opt.zero_grad()
        loss.backward()
        assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)
        opt.step()
        first = first if first is not None else float(loss.detach())
    assert float(loss.detach()) < 0.8 * first
    assert set(logs) == {"one_shot", "noised"}


def test_correspondence_term_supervises_matches_and_confidences():
    """The dense term is zero only where the matches sit on the true positions; its
    gradient reaches the confidence head."""
    torch.manual_seed(0)
    net = RegistrationNet(TINY)
    b = _batch()
    objective = TrainingObjective(net, correspondence_weight=1.0)
    loss, logs = objective(b, None)
    assert set(logs) == {"one_shot", "correspondence"} and float(logs["correspondence"]) > 0
    loss.backward()
    assert float(net.confidence[0].weight.grad.abs().sum()) > 0
    overlap = objective._overlap(torch.zeros(1, 3, 3), torch.tensor([[[0.0, 0, 0], [1, 1, 1]]]))
    assert overlap.tolist() == [[1.0, 1.0, 1.0]]
    far = objective._overlap(torch.full((1, 2, 3), 0.5), torch.zeros(1, 2, 3))
    assert far.tolist() == [[0.0, 0.0]]


def test_start_rotations_cover_the_cube_group():
    from manif_py.registration.pipeline import start_rotations

    H = start_rotations(24)
    R = poses.rt_from_pose(H)[0]
    assert np.allclose(R[0], np.eye(3))
    assert np.allclose(np.einsum("nij,nkj->nik", R, R), np.eye(3), atol=1e-12)
    # the 24 rotations are distinct and closed under composition
    keys = {tuple(np.round(M, 6).ravel()) for M in R}
    assert len(keys) == 24
    assert all(tuple(np.round(A @ B, 6).ravel()) in keys for A in R[:5] for B in R)
    with pytest.raises(ValueError, match="starts"):
        start_rotations(25)


def test_noised_inputs_follow_the_schedule():
    """At small t H_t stays near H_0; near T it is a small motion near the identity."""
    H0 = poses.pose_from_rt(np.eye(3)[None], np.array([[0.3, -0.2, 0.1]]))
    cfg = DiffusionConfig()
    near = [noised_inputs(H0, [np.random.default_rng(i)], DiffusionConfig(steps_train=200))[0] for i in range(3)]
    assert all(np.all(np.isfinite(h)) for h in near)
    from manif_py.registration import kernels

    late = kernels.diffuse(np.repeat(H0, 64, 0), np.full(64, cfg.steps_train), np.zeros((64, 6)))
    assert np.abs(late[:, :3]).max() < 0.01  # abar_T ~ 0: the true translation is forgotten
    early = kernels.diffuse(np.repeat(H0, 64, 0), np.full(64, 1), np.zeros((64, 6)))
    assert np.allclose(early[:, :3], H0[:, :3], atol=1e-3)


def _run_train(tmp_path, name, extra, nproc=None):
    out = tmp_path / name
    cmd = [sys.executable, "-m", "manif_py.registration.model.train", "--tiny", "--out", str(out), "--threads", "1"] + extra
    if nproc:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc), "--master_port",
               str(29500 + os.getpid() % 1000), "-m", "manif_py.registration.model.train", "--tiny", "--out", str(out),
               "--threads", "1"] + extra
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    return out


def test_train_command_writes_checkpoints_metrics_and_resumes(tmp_path):
    out = _run_train(tmp_path, "run", ["--steps", "2"])
    metrics_json = json.loads((out / "metrics.json").read_text())
    assert metrics_json["summary"]["steps"] == 2 and (out / "loss.png").stat().st_size > 1000
    net, diff, mode = checkpoint.load(str(out / "model.pt"))
    assert mode == "diffusion" and isinstance(net, RegistrationNet)
    _run_train(tmp_path, "run", ["--steps", "4", "--resume"])
    assert json.loads((out / "metrics.json").read_text())["summary"]["steps"] == 4
    # Resuming gives exactly the weights of an uninterrupted run.
    straight = _run_train(tmp_path, "straight", ["--steps", "4"])
    a = torch.load(out / "model.pt", weights_only=False)["weights"]
    b = torch.load(straight / "model.pt", weights_only=False)["weights"]
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_train_command_fine_tunes_from_a_checkpoint(tmp_path):
    """--init starts from the given weights (2 + 2 fine-tuned steps are not 4 from scratch) and refuses
    a checkpoint of the other training mode or of other network sizes."""
    from manif_py.registration.model import train

    first = _run_train(tmp_path, "first", ["--steps", "2"])
    start = checkpoint.read(str(first / "model.pt"))["weights"]
    tuned = _run_train(tmp_path, "tuned", ["--steps", "2", "--seed", "1", "--init", str(first / "model.pt")])
    scratch = _run_train(tmp_path, "scratch", ["--steps", "2", "--seed", "1"])
    a, b = (checkpoint.read(str(p / "model.pt"))["weights"] for p in (tuned, scratch))
    near = max(float((a[k] - start[k]).abs().max()) for k in a)
    assert 0 < near < max(float((b[k] - start[k]).abs().max()) for k in a)
    with pytest.raises(ValueError, match="--init.*trained as diffusion"):
        train.main(["--tiny", "--out", str(tmp_path / "bad"), "--one-shot", "--init", str(first / "model.pt")])
    with pytest.raises(ValueError, match="--init.*network settings"):
        train.main(["--out", str(tmp_path / "bad"), "--init", str(first / "model.pt")])   # full-size network


def test_two_processes_train_the_same_model_as_one(tmp_path):
    """torchrun with 2 ranks x batch 1 == 1 process x batch 2 (gloo, DistributedDataParallel).

    SGD, because Adam's first steps are +-lr per weight whatever the gradient's
    size, which turns float rounding in near-zero gradients into lr-sized gaps."""
    opts = ["--steps", "3", "--optimizer", "sgd", "--lr", "0.05"]
    one = _run_train(tmp_path, "one", opts + ["--batch-size", "2"])
    two = _run_train(tmp_path, "two", opts + ["--batch-size", "1"], nproc=2)
    a = torch.load(one / "model.pt", weights_only=False)["weights"]
    b = torch.load(two / "model.pt", weights_only=False)["weights"]
    torch.manual_seed(0)  # the train command's initialisation for --seed 0
    start = RegistrationNet(NetworkConfig(neighbours=12, n_source=96, n_model=128)).state_dict()
    moved = max(float((a[k] - start[k]).abs().max()) for k in a)
    assert moved > 1e-3  # training did change the weights
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-5
    h1 = json.loads((one / "metrics.json").read_text())
    h2 = json.loads((two / "metrics.json").read_text())
    assert h2["summary"]["world_size"] == 2
    # the logged losses are those of the global batch
    assert np.allclose([h["one_shot"] for h in h1["history"]], [h["one_shot"] for h in h2["history"]], atol=1e-5)


def test_checkpoint_errors(tmp_path):
    bogus = tmp_path / "bogus.pt"
    torch.save({"hello": 1}, bogus)
    with pytest.raises(ValueError, match="not a manif_py registration checkpoint"):
        checkpoint.load(str(bogus))
    old = tmp_path / "old.pt"
    net = RegistrationNet(TINY)
    checkpoint.save(str(old), net, DiffusionConfig(), "diffusion", {"format_version": 0})
    with pytest.raises(ValueError, match="format version 0"):
        checkpoint.load(str(old))
    truncated = tmp_path / "truncated.pt"
    checkpoint.save(str(truncated), net, DiffusionConfig(), "diffusion")
    truncated.write_bytes(truncated.read_bytes()[:200])
    with pytest.raises(ValueError, match="cannot be read"):
        checkpoint.load(str(truncated))
    with pytest.raises(FileNotFoundError):
        checkpoint.load(str(tmp_path / "missing.pt"))
    mismatched = tmp_path / "mismatched.pt"
    state = torch.load(str(truncated.parent / "old.pt"), weights_only=False)
    state["format_version"] = checkpoint.FORMAT_VERSION
    state["network"]["feature_dim"] = 48
    torch.save(state, mismatched)
    with pytest.raises(ValueError, match="does not match"):
        checkpoint.load(str(mismatched))


def test_shipped_checkpoint_registers_unseen_objects():
    """The network inside the package, with its pipeline, solves held-out single-view
    problems over SO(3): the three L-brackets (no rotational symmetry, so the
    rotation error is well defined) among the first held-out problems."""
    solved = 0
    for i in (0, 2, 5):
        pair = held_out_problem(i, "single_view", rotation="so3")
        result = estimate_pose(pair["source"], pair["model"], seed=0)
        ok = (metrics.rotation_error_deg(result.transformation, pair["T_gt"]) < 5
              and metrics.translation_error(result.transformation, pair["T_gt"], pair["diameter"]) < 0.05)
        solved += ok
        assert not ok or (result.confident and result.fitness > 0.5)
    assert solved >= 2


@pytest.mark.parametrize("bad, match", [
    (np.zeros((0, 3)), "at least"),
    (np.random.default_rng(0).normal(size=(10, 3)), "at least"),
    (np.random.default_rng(0).normal(size=(100, 2)), r"shape \(N, 3\)"),
    (np.where(np.arange(300)[:, None] == 5, np.nan, np.random.default_rng(0).normal(size=(100, 3)).repeat(3, 0)), "NaN"),
    ("points", "array of numbers"),
])
def test_bad_clouds_are_refused(bad, match):
    model = held_out_problem(1, "clean", rotation="45")["model"]
    with pytest.raises((ValueError, TypeError), match=match):
        estimate_pose(bad, model)


def test_unit_mismatch_is_refused():
    pair = held_out_problem(1, "partial", rotation="45")
    with pytest.raises(ValueError, match="same units"):
        estimate_pose(pair["source"] * 1000.0, pair["model"])


@pytest.mark.parametrize("shape", ["plane", "line"])
def test_degenerate_scan_is_flagged(shape):
    """A planar or collinear scan leaves rotations undetermined: a pose comes back, flagged."""
    rng = np.random.default_rng(0)
    if shape == "plane":
        scan = np.c_[rng.uniform(-0.5, 0.5, (400, 2)), 1e-5 * rng.normal(size=400)]
    else:
        scan = np.c_[rng.uniform(-0.5, 0.5, 400), 1e-5 * rng.normal(size=(400, 2))]
    model = held_out_problem(1, "clean", rotation="45")["model"]
    result = estimate_pose(scan, model, refine=False, starts=1)
    assert not result.confident and any("planar or collinear" in w for w in result.warnings)
    assert np.all(np.isfinite(result.transformation))


def test_register_command_writes_json_and_plot(tmp_path):
    from manif_py import pointcloud as io

    pair = held_out_problem(2, "single_view", rotation="so3")
    io.write_ply(str(tmp_path / "scan.ply"), pair["source"])
    io.write_ply(str(tmp_path / "model.ply"), pair["model"])
    proc = subprocess.run([sys.executable, "-m", "manif_py.cli", "register", str(tmp_path / "scan.ply"),
                           str(tmp_path / "model.ply"), "--json", str(tmp_path / "pose.json"), "--plot",
                           str(tmp_path / "pose.png")], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})  # this process runs torch on 1 thread
    assert "fitness" in proc.stdout, proc.stderr
    pose = json.loads((tmp_path / "pose.json").read_text())
    T = np.array(pose["transformation"])
    # The command reports exactly what the pipeline finds on the clouds it read
    # (its accuracy is the business of the tests above).
    from manif_py.registration.commands.register_command import load_cloud

    direct = estimate_pose(load_cloud(str(tmp_path / "scan.ply"))[0], load_cloud(str(tmp_path / "model.ply"))[0])
    assert np.allclose(T, direct.transformation, atol=1e-9)
    assert pose["fitness"] == pytest.approx(direct.fitness) and pose["inlier_rmse"] == pytest.approx(direct.inlier_rmse)
    assert "pose (scan -> model)" in proc.stdout and f"{direct.fitness:.4f}" in proc.stdout
    assert (tmp_path / "pose.png").stat().st_size > 10_000


def test_register_command_reports_unreadable_files(tmp_path):
    bad = tmp_path / "scan.ply"
    bad.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 100\nproperty float x\n")
    proc = subprocess.run([sys.executable, "-m", "manif_py.cli", "register", str(bad), str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "scan.ply" in proc.stderr and "Traceback" not in proc.stderr


def test_demo_command_estimates_the_pose_and_draws_it(tmp_path):
    """The README's main job: a held-out object, a single-view scan over SO(3), the pose, a picture."""
    png = tmp_path / "demo.png"
    proc = subprocess.run([sys.executable, "-m", "manif_py.cli", "demo", "--plot", str(png)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    line = next(l for l in proc.stdout.splitlines() if l.startswith("error against the truth"))
    rotation_deg = float(line.split("rotation")[1].split("deg")[0])
    translation_pct = float(line.split("translation")[1].split("%")[0])
    assert rotation_deg < 5 and translation_pct < 5, proc.stdout
    assert png.stat().st_size > 10_000


def test_tour_command_runs():
    proc = subprocess.run([sys.executable, "-m", "manif_py.cli", "tour"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "SE3" in proc.stdout, proc.stderr


def test_evaluate_command_compares_the_two_shipped_networks(tmp_path):
    """The one-shot baseline defaults to the network trained one-shot, never the diffusion network run once."""
    from manif_py.registration.evaluation import evaluate

    out = tmp_path / "eval"
    evaluate.main(["--pairs", "2", "--settings", "clean:45", "--methods", "ours_one_shot", "ours_diffusion",
                   "--out", str(out)])
    result = json.loads((out / "metrics.json").read_text())
    rows = result["rows"]["clean:45"]
    assert set(rows) == {"ours_one_shot", "ours_diffusion"} and all(len(r) == 2 for r in rows.values())
    assert (out / "results.md").exists() and (out / "recall.png").stat().st_size > 1_000
    pair = held_out_problem(0, "clean", rotation="45")
    errors = {}
    for name, path in (("one_shot", checkpoint.one_shot_checkpoint_path()), ("diffusion", None)):
        T = estimate_pose(pair["source"], pair["model"], checkpoint_path=path, diffusion=False, refine=False,
                          starts=1, seed=0).transformation
        errors[name] = metrics.evaluate_one(pair["source"], pair["model"], T, pair["T_gt"], 1.0)["rotation_error_deg"]
    assert rows["ours_one_shot"][0]["rotation_error_deg"] == pytest.approx(errors["one_shot"])
    assert errors["one_shot"] != pytest.approx(errors["diffusion"])


@pytest.mark.parametrize("argv, match", [(["--methods", "foo"], "invalid choice"), (["--pairs", "0"], "at least 1")])
def test_evaluate_command_refuses_bad_arguments(argv, match, capsys):
    from manif_py.registration.evaluation import evaluate

    with pytest.raises(SystemExit):
        evaluate.parse_args(argv + ["--out", "x"])
    assert match in capsys.readouterr().err
