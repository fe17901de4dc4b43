"""Point-cloud kernels on the kd-tree: kNN against brute force, PCA normals on a
plane and a sphere, RPM-Net PPF features against a numpy transcription, Chamfer
and ADD-S, and bad input."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from manif_py.registration import kernels as K


def brute_knn(q, r, k):
    d2 = ((q[:, None, :] - r[None, :, :]) ** 2).sum(-1)
    idx = np.argsort(d2, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(d2, idx, 1)


@pytest.mark.parametrize("M,N,k", [(200, 1000, 8), (50, 37, 37), (300, 5000, 1), (10, 1, 1)])
def test_knn_matches_brute_force(M, N, k):
    rng = np.random.default_rng(M + N)
    q, r = rng.normal(size=(M, 3)), rng.normal(size=(N, 3))
    idx, d2 = K.knn(q, r, k)
    ref_idx, ref_d2 = brute_knn(q, r, k)
    assert idx.dtype == np.int64 and idx.shape == (M, k) and d2.shape == (M, k)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(d2, ref_d2, rtol=1e-12, atol=1e-14)


def test_knn_float32_and_clustered_data():
    rng = np.random.default_rng(1)
    # Clusters, a flat sheet and exact duplicates stress the splits.
    r = np.concatenate([rng.normal(size=(300, 3)) * 1e-3, rng.normal(size=(300, 3)) + 5,
                        np.c_[rng.uniform(size=(300, 2)), np.zeros(300)]])
    r = np.concatenate([r, r[:50]])
    q = rng.normal(size=(100, 3)) * 2
    idx, d2 = K.knn(q.astype(np.float32), r.astype(np.float32), 6)
    assert d2.dtype == np.float32
    _, ref_d2 = brute_knn(q.astype(np.float32).astype(np.float64), r.astype(np.float32).astype(np.float64), 6)
    np.testing.assert_allclose(d2, ref_d2, rtol=1e-5, atol=1e-6)
    got = ((q.astype(np.float32)[:, None] - r.astype(np.float32)[idx]) ** 2).sum(-1)
    np.testing.assert_allclose(got, d2, rtol=1e-5, atol=1e-6)


def test_knn_batch_matches_single():
    rng = np.random.default_rng(2)
    q, r = rng.normal(size=(3, 64, 3)), rng.normal(size=(3, 500, 3))
    idx, d2 = K.knn_batch(q, r, 5)
    assert idx.shape == (3, 64, 5)
    for b in range(3):
        i1, d1 = K.knn(q[b], r[b], 5)
        np.testing.assert_array_equal(idx[b], i1)
        np.testing.assert_array_equal(d2[b], d1)


def test_normals_on_plane_and_sphere():
    rng = np.random.default_rng(3)
    R = Rotation.random(random_state=3).as_matrix()
    plane = np.c_[rng.uniform(-1, 1, size=(500, 2)), np.zeros(500)] @ R.T + 2.0
    n = K.estimate_normals(plane, k=12, viewpoint=np.array([0.0, 0.0, 0.0]) + 2.0 + 5 * R[:, 2])
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1, atol=1e-12)
    np.testing.assert_allclose(n, np.tile(R[:, 2], (500, 1)), atol=1e-9)  # faces the viewpoint
    n = K.estimate_normals(plane, k=12, viewpoint=2.0 - 5 * R[:, 2])
    np.testing.assert_allclose(n, np.tile(-R[:, 2], (500, 1)), atol=1e-9)

    sphere = rng.normal(size=(3000, 3))
    sphere /= np.linalg.norm(sphere, axis=1, keepdims=True)
    c = np.array([0.3, -1.0, 2.0])
    n = K.estimate_normals(sphere + c, k=16)  # outward: away from the centroid
    assert np.einsum("ij,ij->i", n, sphere).min() > 0.99
    n32 = K.estimate_normals((sphere + c).astype(np.float32), k=16)
    assert n32.dtype == np.float32 and np.einsum("ij,ij->i", n32, sphere).min() > 0.99


def angle(a, b):
    return np.arctan2(np.linalg.norm(np.cross(a, b), axis=-1), (a * b).sum(-1))


def ppf_reference(points, normals, k, radius):
    B, N, _ = points.shape
    idx = np.zeros((B, N, k), dtype=np.int64)
    feats = np.zeros((B, N, k, 10))
    for b in range(B):
        p, n = points[b], normals[b]
        d2 = ((p[:, None] - p[None]) ** 2).sum(-1)
        order = np.argsort(d2, axis=1, kind="stable")
        for i in range(N):
            nb = [j for j in order[i, :k] if d2[i, j] < radius ** 2]
            nb = nb + [nb[0]] * (k - len(nb))
            idx[b, i] = nb
            d = p[nb] - p[i]
            feats[b, i, :, :3] = p[i]
            feats[b, i, :, 3:6] = d
            feats[b, i, :, 6] = np.linalg.norm(d, axis=1)
            feats[b, i, :, 7] = angle(n[i][None], d)
            feats[b, i, :, 8] = angle(n[nb], d)
            feats[b, i, :, 9] = angle(n[i][None], n[nb])
    return idx, feats


def test_ppf_matches_numpy_reference():
    rng = np.random.default_rng(4)
    pts = rng.uniform(-0.5, 0.5, size=(2, 150, 3))
    nrm = rng.normal(size=(2, 150, 3))
    nrm /= np.linalg.norm(nrm, axis=-1, keepdims=True)
    idx, feats = K.ppf_features(pts, nrm, k=24, radius=0.25)  # many balls hold < 24 points: padding
    ref_idx, ref_feats = ppf_reference(pts, nrm, 24, 0.25)
    assert idx.shape == (2, 150, 24) and feats.shape == (2, 150, 24, 10)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(feats, ref_feats, atol=1e-12)
    assert (idx[..., 0] == np.arange(150)).all()  # the nearest is the point itself
    assert np.isfinite(feats).all() and feats[..., 7:].max() <= np.pi and feats[..., 7:].min() >= 0

    idx32, feats32 = K.ppf_features(pts.astype(np.float32), nrm.astype(np.float32), k=24, radius=0.25)
    assert feats32.dtype == np.float32
    same = (idx32 == idx).all(-1)  # float32 may reorder near-ties at the edge of a ball
    assert same.mean() > 0.95
    np.testing.assert_allclose(feats32[same], feats[same], atol=1e-4)


def test_symmetric_chamfer_and_add_s():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(400, 3))
    b = rng.normal(size=(300, 3))
    _, dab = brute_knn(a, b, 1)
    _, dba = brute_knn(b, a, 1)
    assert K.symmetric_chamfer(a, b) == pytest.approx(np.sqrt(dab).mean() + np.sqrt(dba).mean(), rel=1e-12)
    assert K.symmetric_chamfer(a, b, squared=True) == pytest.approx(dab.mean() + dba.mean(), rel=1e-12)
    assert K.symmetric_chamfer(a, a) == 0.0

    pose = np.r_[0.1, 0.2, -0.3, Rotation.random(random_state=5).as_quat()]
    r = K.add_s(a, pose, pose, diameter=2.0)
    assert r["add_s"] == 0.0 and r["success"]
    shifted = pose.copy()
    shifted[:3] += [0.5, 0, 0]
    Rm = Rotation.from_quat(pose[3:]).as_matrix()
    ref = brute_knn(a @ Rm.T + shifted[:3], a @ Rm.T + pose[:3], 1)[1]
    r = K.add_s(a, shifted, pose, diameter=2.0)
    assert r["add_s"] == pytest.approx(np.sqrt(ref).mean(), rel=1e-12)
    assert r["relative"] == pytest.approx(r["add_s"] / 2.0) and r["success"] == (r["add_s"] < 0.2)


def check(call, exc, *words):
    with pytest.raises(exc) as info:
        call()
    for w in words:
        assert w in str(info.value), str(info.value)


def test_bad_input():
    rng = np.random.default_rng(6)
    p = rng.normal(size=(20, 3))
    n = p / np.linalg.norm(p, axis=1, keepdims=True)
    check(lambda: K.knn(p[:, :2], p, 3), ValueError, "'query'", "(M, 3)")
    check(lambda: K.knn(p, p[:, :2], 3), ValueError, "'ref'", "(N, 3)")
    check(lambda: K.knn(p, p, 21), ValueError, "'k'", "20")
    check(lambda: K.knn(p, p, 0), ValueError, "'k'")
    check(lambda: K.knn(p[:0], p, 1), ValueError, "'query'")
    check(lambda: K.knn(p, p[:0], 1), ValueError, "'ref'")
    check(lambda: K.knn(np.where(p > 1, np.nan, p), p, 1), ValueError, "'query'", "NaN")
    check(lambda: K.knn(p.astype(str), p, 1), TypeError, "'query'")
    check(lambda: K.knn_batch(p[None], np.stack([p, p]), 1), ValueError, "'ref'", "(B, N, 3)")
    check(lambda: K.knn_batch(p, p, 1), ValueError, "'query'", "(B, M, 3)")
    check(lambda: K.estimate_normals(p, k=30), ValueError, "'k'")
    check(lambda: K.estimate_normals(p, k=2), ValueError, "'k'")
    check(lambda: K.estimate_normals(p[:, :2]), ValueError, "'points'", "(N, 3)")
    check(lambda: K.estimate_normals(p, viewpoint=[1, 2]), ValueError, "'viewpoint'", "(3,)")
    check(lambda: K.estimate_normals(p, viewpoint=[1, 2, np.inf]), ValueError, "'viewpoint'")
    check(lambda: K.ppf_features(p, n), ValueError, "'points'", "(B, N, 3)")
    check(lambda: K.ppf_features(p[None], n[None, :10]), ValueError, "'normals'", "(B, N, 3)")
    check(lambda: K.ppf_features(p[None], n[None], k=64), ValueError, "'k'", "20")
    check(lambda: K.ppf_features(p[None], n[None], k=4, radius=0.0), ValueError, "'radius'")
    check(lambda: K.ppf_features(p[None], np.full((1, 20, 3), np.nan), k=4), ValueError, "'normals'", "NaN")
    check(lambda: K.ppf_features(p[None, :0], n[None, :0], k=1), ValueError, "'points'")
    check(lambda: K.symmetric_chamfer(p, p[:0]), ValueError, "'b'")
    check(lambda: K.add_s(p, np.r_[0, 0, 0, 0, 0, 0, 2.0], np.r_[0, 0, 0, 0, 0, 0, 1.0], 1.0), ValueError,
          "'pose_est'", "unit")
    check(lambda: K.add_s(p, np.zeros(6), np.r_[0, 0, 0, 0, 0, 0, 1.0], 1.0), ValueError, "'pose_est'", "(7,)")
    check(lambda: K.add_s(p, np.r_[0, 0, 0, 0, 0, 0, 1.0], np.r_[0, 0, 0, 0, 0, 0, 1.0], 0.0), ValueError,
          "'diameter'")


def test_thread_setting_gives_identical_results():
    rng = np.random.default_rng(7)
    q, r = rng.normal(size=(3000, 3)), rng.normal(size=(4000, 3))
    try:
        K.set_num_threads(1)
        assert K.get_num_threads() == 1
        one = K.knn(q, r, 4)
        K.set_num_threads(2)
        two = K.knn(q, r, 4)
    finally:
        K.set_num_threads(0)  # back to the default (all cores)
    np.testing.assert_array_equal(one[0], two[0])
    with pytest.raises(ValueError, match="'n'"):
        K.set_num_threads(-1)
