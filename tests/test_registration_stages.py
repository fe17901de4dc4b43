"""The staged registration: each stage alone, the cache, determinism, and verdicts on scans that are not the object."""

import numpy as np
import pytest

from manif_py.registration import shapes, views
from manif_py.registration.global_hypotheses import ppf_hypotheses
from manif_py.registration.icp_refinement import refine_hypotheses
from manif_py.registration.prepared import PreparedModel, load_or_prepare, prepare_model
from manif_py.registration.staged import staged_registration
from manif_py.registration.verification import verify


def _rotation(rng):
    q = rng.standard_normal(4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def _errors(T, T_true):
    E = np.linalg.inv(T_true) @ T
    rot = np.degrees(np.arccos(np.clip((np.trace(E[:3, :3]) - 1) / 2, -1, 1)))
    return rot, np.linalg.norm(T[:3, 3] - T_true[:3, 3])


@pytest.fixture(scope="module")
def problem():
    """A 4,000-point model (diameter 1) and a cropped, noisy scan of it at a random pose over SO(3)."""
    rng = np.random.default_rng(7)
    obj = shapes.make_object(3, "composite", n_points=8000)  # no rotational symmetry
    model = obj.points[:4000]
    idx = views.crop_half_space(obj.points[4000:], rng, keep=0.7)
    scan_m = views.add_noise(obj.points[4000:][idx], rng, 0.005, 0.02)
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = _rotation(rng), rng.uniform(-0.25, 0.25, 3)
    scan = (scan_m - T[:3, 3]) @ T[:3, :3]  # model = R scan + t
    return model, scan, T


@pytest.fixture(scope="module")
def prepared(problem):
    return prepare_model(problem[0])


def test_global_stage_alone_finds_the_pose_among_its_hypotheses(problem, prepared):
    _, scan, T = problem
    hyps, votes = ppf_hypotheses(scan, prepared, top_k=8, seed=0)
    assert hyps.shape[1:] == (4, 4) and hyps.dtype == np.float64 and len(hyps) == len(votes) <= 8
    assert np.all(np.diff(votes) <= 0)
    best = min(_errors(H, T)[0] for H in hyps)
    assert best < 15.0


def test_icp_stage_alone_pulls_a_nearby_pose_in(problem, prepared):
    _, scan, T = problem
    off = np.eye(4)
    c, s = np.cos(np.radians(8)), np.sin(np.radians(8))
    off[:3, :3] = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
    off[:3, 3] = [0.03, -0.02, 0.01]
    refined = refine_hypotheses(scan, prepared, (T @ off)[None])
    rot, tr = _errors(refined[0], T)
    assert rot < 2.0 and tr < 0.02


def test_verification_alone_prefers_the_true_pose(problem, prepared):
    _, scan, T = problem
    wrong = T.copy()
    wrong[:3, :3] = T[:3, :3] @ np.diag([-1.0, -1.0, 1.0])  # a half turn: distinct and wrong
    verdict = verify(scan, prepared, np.stack([wrong, T]))
    assert verdict.best == 1 and verdict.confident and verdict.margin > 0
    assert verdict.fitness[1, 1] > verdict.fitness[0, 1]


def test_staged_registration_is_right_confident_and_deterministic(problem, prepared):
    _, scan, T = problem
    a = staged_registration(scan, prepared, seed=3)
    b = staged_registration(scan, prepared, seed=3)
    rot, tr = _errors(a.transformation, T)
    assert rot < 5.0 and tr < 0.05 and a.confident
    np.testing.assert_array_equal(a.transformation, b.transformation)
    assert set(a.stage_seconds) == {"global", "icp", "verification"} and a.margin == b.margin


def test_cache_round_trip(problem, prepared, tmp_path):
    path = tmp_path / "model.npz"
    prepared.save(path)
    loaded = PreparedModel.load(path, problem[0])
    np.testing.assert_array_equal(loaded.points, prepared.points)
    for field in ("ppf_offsets", "ppf_ref", "ppf_alpha", "coarse_index"):
        np.testing.assert_array_equal(getattr(loaded, field), getattr(prepared, field))
        assert getattr(loaded, field).dtype == getattr(prepared, field).dtype
    for (p, n), (q, m) in zip(loaded.levels, prepared.levels):
        np.testing.assert_array_equal(p, q)
        np.testing.assert_array_equal(n, m)
    assert loaded.fingerprint == prepared.fingerprint
    # load_or_prepare: loads what exists, creates what does not.
    assert load_or_prepare(problem[0], path).fingerprint == prepared.fingerprint
    fresh = tmp_path / "fresh.npz"
    load_or_prepare(problem[0], fresh)
    assert fresh.exists()


def test_corrupt_cache_is_refused_naming_the_file(prepared, tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all" * 10)
    with pytest.raises(ValueError, match="garbage.npz"):
        PreparedModel.load(garbage)
    good = tmp_path / "good.npz"
    prepared.save(good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ValueError, match="truncated.npz"):
        PreparedModel.load(truncated)
    # Tampered points: the fingerprint no longer matches.
    with np.load(good) as f:
        data = {k: f[k] for k in f.files}
    data["points"] = data["points"] + 1e-3
    tampered = tmp_path / "tampered.npz"
    np.savez(tampered, **data)
    with pytest.raises(ValueError, match="tampered.npz.*fingerprint"):
        PreparedModel.load(tampered)
    data = {k: v for k, v in data.items() if k != "points"}
    missing = tmp_path / "missing.npz"
    np.savez(missing, **data)
    with pytest.raises(ValueError, match="missing.npz.*points"):
        PreparedModel.load(missing)


@pytest.mark.parametrize("field, change, message", [
    ("ppf_offsets", lambda a: a[:-1], "ppf_offsets.*shape"),
    ("ppf_offsets", lambda a: np.where(np.arange(len(a)) == 7, a[-1] + 5, a), "ppf_offsets.*rise"),
    ("ppf_ref", lambda a: np.where(np.arange(len(a)) == 0, 10 ** 6, a), "reference indices out of range"),
    ("ppf_ref", lambda a: a[:-1], "PPF table has"),
    ("ppf_alpha", lambda a: np.where(np.arange(len(a)) == 0, np.nan, a), "ppf_alpha.*NaN"),
    ("ppf_alpha", lambda a: a.astype(np.int64), "ppf_alpha.*dtype"),
    ("coarse_index", lambda a: a - 1, "coarse_index"),
])
def test_tampered_global_table_in_a_cache_is_refused(prepared, tmp_path, field, change, message):
    # The C++ voting reads through these arrays: a cache must never hand it an index out of range.
    good = tmp_path / "good.npz"
    prepared.save(good)
    with np.load(good) as f:
        data = {k: f[k] for k in f.files}
    data[field] = change(data[field])
    bad = tmp_path / "bad.npz"
    np.savez(bad, **data)
    with pytest.raises(ValueError, match=f"bad.npz.*{message}"):
        PreparedModel.load(bad)


def test_cache_of_another_model_or_version_is_refused(prepared, tmp_path):
    path = tmp_path / "cache.npz"
    prepared.save(path)
    other = shapes.make_object(11, n_points=2000).points
    with pytest.raises(ValueError, match="cache.npz.*another model"):
        PreparedModel.load(path, other)
    with pytest.raises(ValueError, match="another model"):
        load_or_prepare(other, path)
    with np.load(path) as f:
        data = {k: f[k] for k in f.files}
    data["format_version"] = np.int64(1)  # the numpy-voting cache format, before the C++ table
    old = tmp_path / "old.npz"
    np.savez(old, **data)
    with pytest.raises(ValueError, match="old.npz.*format version 1"):
        PreparedModel.load(old)


def test_clutter_only_scan_is_not_confident(prepared):
    rng = np.random.default_rng(0)
    clutter = rng.uniform(-0.4, 0.4, (3000, 3))
    result = staged_registration(clutter, prepared, seed=0)
    assert not result.confident and result.warnings


def test_scan_of_another_object_is_not_confident(prepared):
    rng = np.random.default_rng(1)
    other = shapes.make_object(12, "mechanical", n_points=6000).points
    idx = views.crop_half_space(other, rng, keep=0.7)
    result = staged_registration(other[idx], prepared, seed=0)
    assert not result.confident and result.warnings


@pytest.mark.parametrize("bad, exc", [
    ("points", TypeError), (np.zeros((10, 2)), ValueError), (np.full((100, 3), np.nan), ValueError),
    (np.zeros((2, 3)), ValueError), ([[1, 2]], ValueError)])
def test_bad_scans_are_refused_by_every_stage(prepared, bad, exc):
    eye = np.eye(4)[None]
    for call in (lambda: ppf_hypotheses(bad, prepared), lambda: refine_hypotheses(bad, prepared, eye),
                 lambda: verify(bad, prepared, eye), lambda: staged_registration(bad, prepared)):
        with pytest.raises(exc, match="scan_points"):
            call()


@pytest.mark.parametrize("poses", [np.zeros((3, 3)), np.zeros((0, 4, 4)), np.full((1, 4, 4), np.nan),
                                   np.diag([1.0, 1.0, -1.0, 1.0])[None], "eye"])
def test_bad_poses_are_refused(problem, prepared, poses):
    with pytest.raises((ValueError, TypeError), match="poses"):
        refine_hypotheses(problem[1], prepared, poses)


def test_stages_refuse_what_is_not_a_prepared_model(problem):
    with pytest.raises(TypeError, match="prepared"):
        ppf_hypotheses(problem[1], problem[0])
    with pytest.raises(TypeError, match="prepared"):
        staged_registration(problem[1], None)
    with pytest.raises(ValueError, match="model_points"):
        prepare_model(np.zeros((50, 3)))
    with pytest.raises(ValueError, match="top_k"):
        ppf_hypotheses(problem[1], prepare_model(problem[0][:500]), top_k=0)


def test_estimate_pose_runs_the_stages_with_a_model_cache(problem, tmp_path):
    from manif_py.registration.pipeline import estimate_pose
    model, scan, T = problem
    cache = tmp_path / "m.npz"
    first = estimate_pose(scan, model, model_cache=str(cache))
    assert cache.exists() and {"model", "global", "icp", "verification"} <= set(first.stage_seconds)
    second = estimate_pose(scan, model, model_cache=str(cache))
    np.testing.assert_array_equal(first.transformation, second.transformation)
    assert _errors(second.transformation, T)[0] < 5.0 and "margin" in second.to_dict()
    with pytest.raises(ValueError, match="method"):
        estimate_pose(scan, model, method="ransac")


def test_estimate_poses_prepares_the_model_once_for_the_staged_method(problem, tmp_path):
    from manif_py.registration.many_scans import estimate_poses
    model, scan, T = problem
    cache = tmp_path / "m.npz"
    results = estimate_poses([scan, scan[::2]], model, method="staged", model_cache=str(cache))
    assert cache.exists() and len(results) == 2
    for result in results:
        assert _errors(result.transformation, T)[0] < 5.0 and result.margin is not None
    # A scan larger than its model (swapped arguments) may register, but never confidently.
    assert not estimate_poses([model], scan, method="staged")[0].confident


def test_register_command_staged_with_a_model_cache_writes_json_lines(problem, tmp_path):
    import json

    from manif_py.pointcloud import write_ply
    from manif_py.registration.commands.register_command import main
    model, scan, T = problem
    write_ply(tmp_path / "scan.ply", scan)
    write_ply(tmp_path / "model.ply", model)
    out, cache = tmp_path / "poses.jsonl", tmp_path / "model.npz"
    argv = [str(tmp_path / "scan.ply"), str(tmp_path / "scan.ply"), str(tmp_path / "model.ply"),
            "--method", "staged", "--model-cache", str(cache), "--jsonl", str(out)]
    assert main(argv) in (0, 3) and cache.exists()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 2 and all(line["error"] is None and line["margin"] is not None for line in lines)
    assert _errors(np.array(lines[0]["pose"]), T)[0] < 5.0


def test_cached_model_trees_give_what_a_fresh_tree_gives(problem, prepared):
    """The prepared model's kd-trees (built once) answer as the per-call kernels, which build their own."""
    from manif_py.registration import kernels

    _, scan, T = problem
    index = prepared.index()
    assert index is prepared.index() and index.size == len(prepared.points)  # built once, then reused
    idx, d2 = index.knn(scan, 3)
    ref_idx, ref_d2 = kernels.knn(scan, prepared.points, 3)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(d2, ref_d2)
    inits = np.stack([T, np.eye(4)])
    out = index.icp(scan, inits, max_iterations=10, max_correspondence_distance=0.05)
    for k, T0 in enumerate(inits):
        r = kernels.icp(scan, prepared.points, prepared.normals, init=T0, max_iterations=10,
                        max_correspondence_distance=0.05, method="point_to_plane")
        np.testing.assert_allclose(out["matrix"][k], r["matrix"], atol=1e-12)
        assert out["iterations"][k] == r["iterations"] and out["fitness"][k] == r["fitness"]


def test_cloud_index_refuses_bad_input(prepared):
    from manif_py import _registration

    with pytest.raises(ValueError, match="'normals'.*like 'points'"):
        _registration.CloudIndex(prepared.points, prepared.normals[:-1])
    with pytest.raises(ValueError, match="'points'.*at least 3"):
        _registration.CloudIndex(prepared.points[:2], prepared.normals[:2])
    index = prepared.index(0)
    with pytest.raises(ValueError, match="'k'"):
        index.knn(prepared.points[:5], 0)
    with pytest.raises(ValueError, match="'inits' entry 1"):
        index.icp(prepared.points[:50], np.stack([np.eye(4), 2 * np.eye(4)]), max_correspondence_distance=0.1)
    with pytest.raises(ValueError, match="'inits'"):
        index.icp(prepared.points[:50], np.eye(4), max_correspondence_distance=0.1)
    with pytest.raises(ValueError, match="max_correspondence_distance"):
        index.icp(prepared.points[:50], np.eye(4)[None], max_correspondence_distance=-1.0)
    with pytest.raises(TypeError, match="not picklable"):
        import pickle
        pickle.dumps(index)


def test_prepared_model_pays_for_its_kd_trees_once_across_scans(problem, prepared):
    # Coarse ICP, fine ICP and verification reuse the model's trees: two scans, the same tree objects.
    _, scan, _ = problem
    staged_registration(scan, prepared, seed=0)
    trees = {k: id(v) for k, v in prepared._indices.items()}
    staged_registration(scan[::2], prepared, seed=1)
    assert {k: id(v) for k, v in prepared._indices.items()} == trees and set(trees) >= {None, -1}


def test_bounded_knn_leaves_far_points_out(prepared):
    rng = np.random.default_rng(5)
    query = np.concatenate([prepared.points[:20] + 1e-3, rng.uniform(5.0, 6.0, (10, 3))])  # 10 far off
    index = prepared.index()
    idx, d2 = index.knn(query, 2, max_distance=0.05)
    full_idx, full_d2 = index.knn(query, 2)
    near = full_d2 <= 0.05 ** 2
    np.testing.assert_array_equal(idx[near], full_idx[near])
    np.testing.assert_array_equal(d2[near], full_d2[near])
    assert np.all(idx[~near] == -1) and np.all(np.isinf(d2[~near])) and (~near[20:]).all()
    with pytest.raises(ValueError, match="max_distance"):
        index.knn(query, 1, max_distance=0.0)


def test_staged_registration_does_not_depend_on_the_thread_count(problem, prepared):
    import manif_py
    from manif_py import _registration

    _, scan, _ = problem
    before = manif_py._threads._requested
    try:
        manif_py.set_num_threads(1)
        assert _registration.get_num_threads() == 1
        one = staged_registration(scan, prepared, seed=2)
        manif_py.set_num_threads(2)
        assert _registration.get_num_threads() == 2
        two = staged_registration(scan, prepared, seed=2)
    finally:
        manif_py.set_num_threads(before)
    np.testing.assert_array_equal(one.transformation, two.transformation)
    assert one.confident == two.confident and one.margin == two.margin
