"""ICP (Gauss-Newton on SE(3)) on a sampled ellipsoid-and-box object: convergence
from 10-20 degrees to below 0.1 degree on noiseless data, point-to-point and
point-to-plane, robust kernels against outliers, fitness / rmse, and bad input."""

import time

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from manif_py.registration import kernels as K


def sample_object(rng, n):
    """An ellipsoid with a box glued to one side (no continuous symmetry), with exact normals."""
    m = n * 2 // 3
    u = rng.normal(size=(m, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    axes = np.array([1.0, 0.6, 0.35])
    pe = u * axes
    ne = pe / axes ** 2
    ne /= np.linalg.norm(ne, axis=1, keepdims=True)
    # Box [0.5, 1.1] x [-0.2, 0.3] x [0, 0.5]: sample faces in proportion to their area.
    lo, hi = np.array([0.5, -0.2, 0.0]), np.array([1.1, 0.3, 0.5])
    size = hi - lo
    k = n - m
    face_area = np.array([size[1] * size[2], size[0] * size[2], size[0] * size[1]]).repeat(2)
    face = rng.choice(6, size=k, p=face_area / face_area.sum())
    pb = lo + rng.uniform(size=(k, 3)) * size
    nb = np.zeros((k, 3))
    axis, side = face // 2, face % 2
    pb[np.arange(k), axis] = np.where(side == 1, hi[axis], lo[axis])
    nb[np.arange(k), axis] = np.where(side == 1, 1.0, -1.0)
    return np.concatenate([pe, pb]), np.concatenate([ne, nb])


def pose_of(angle_deg, rng, t_scale=0.1):
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    q = Rotation.from_rotvec(np.deg2rad(angle_deg) * axis).as_quat()
    return np.r_[t_scale * rng.normal(size=3), q]


def errors(pose, truth):
    dR = Rotation.from_quat(pose[3:]).inv() * Rotation.from_quat(truth[3:])
    return np.rad2deg(dR.magnitude()), np.linalg.norm(pose[:3] - truth[:3])


def apply_inverse(pose, pts):
    R = Rotation.from_quat(pose[3:]).as_matrix()
    return (pts - pose[:3]) @ R  # R^T (p - t) row-wise


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    return sample_object(rng, 10000)


@pytest.mark.parametrize("angle", [10.0, 15.0, 20.0])
@pytest.mark.parametrize("method", ["point_to_plane", "point_to_point"])
def test_converges_from_subset(model, angle, method):
    tgt, normals = model
    rng = np.random.default_rng(int(angle))
    truth = pose_of(angle, rng)
    src = apply_inverse(truth, tgt[rng.choice(len(tgt), 5000, replace=False)])
    res = K.icp(src, tgt, normals, max_iterations=60, method=method, tolerance=1e-9)
    rot_err, trans_err = errors(res["pose"], truth)
    assert rot_err < 0.01 and trans_err < 1e-4, (rot_err, trans_err, res["iterations"])
    assert res["fitness"] == 1.0 and res["inlier_rmse"] < 1e-6
    np.testing.assert_allclose(res["matrix"][:3, :3], Rotation.from_quat(res["pose"][3:]).as_matrix(), atol=1e-12)
    np.testing.assert_allclose(res["matrix"][:3, 3], res["pose"][:3])


def test_point_to_plane_on_independent_samples(model):
    """A fresh sampling of the same surface (no point in common): still below 0.1 degree."""
    tgt, normals = model
    rng = np.random.default_rng(1)
    truth = pose_of(15.0, rng)
    src = apply_inverse(truth, sample_object(rng, 5000)[0])
    res = K.icp(src, tgt, normals, max_iterations=30)
    rot_err, trans_err = errors(res["pose"], truth)
    assert rot_err < 0.1 and trans_err < 2e-3, (rot_err, trans_err)
    assert res["converged"]


def test_estimated_normals_float32_and_matrix_init(model):
    tgt, _ = model
    rng = np.random.default_rng(2)
    truth = pose_of(12.0, rng)
    src = apply_inverse(truth, tgt[rng.choice(len(tgt), 3000, replace=False)])
    init = np.eye(4)
    init[:3, 3] = truth[:3] * 0.5
    res = K.icp(src.astype(np.float32), tgt.astype(np.float32), init=init, tolerance=1e-7)
    rot_err, trans_err = errors(res["pose"], truth)
    assert rot_err < 0.05 and trans_err < 1e-3, (rot_err, trans_err)
    # Starting at the answer converges at once.
    res = K.icp(src, tgt, init=truth, tolerance=1e-6)
    assert res["iterations"] <= 2 and res["converged"]


def test_robust_kernel_rejects_outliers(model):
    tgt, normals = model
    rng = np.random.default_rng(3)
    truth = pose_of(10.0, rng)
    src = apply_inverse(truth, tgt[rng.choice(len(tgt), 3000, replace=False)])
    src = np.concatenate([src, rng.uniform(-1.5, 1.5, size=(600, 3))])  # 17% clutter
    plain = K.icp(src, tgt, normals, method="point_to_point", max_iterations=60)
    robust = K.icp(src, tgt, normals, method="point_to_point", max_iterations=60,
                   robust_kernel="tukey", kernel_scale=0.05)
    huber = K.icp(src, tgt, normals, max_iterations=60, robust_kernel="huber", kernel_scale=0.01,
                  max_correspondence_distance=0.3)
    r_plain, _ = errors(plain["pose"], truth)
    r_robust, t_robust = errors(robust["pose"], truth)
    r_huber, _ = errors(huber["pose"], truth)
    assert r_robust < 0.05 and t_robust < 1e-3, r_robust
    assert r_huber < 0.1, r_huber
    assert r_plain > 5 * r_robust  # the clutter biases the unweighted fit
    assert 0.8 < huber["fitness"] < 0.95  # clutter far from the surface has no partner within 0.3


def test_fitness_counts_pairs_within_distance(model):
    tgt, normals = model
    src = tgt[:2000] + np.array([0.0, 0.0, 5.0])  # far away: nothing within 0.1
    res = K.icp(src, tgt, normals, max_correspondence_distance=0.1)
    assert res["fitness"] == 0.0 and res["iterations"] == 0 and not res["converged"]
    np.testing.assert_allclose(res["pose"], [0, 0, 0, 0, 0, 0, 1])


def test_speed_5k_against_10k(model):
    tgt, normals = model
    rng = np.random.default_rng(4)
    truth = pose_of(15.0, rng)
    src = apply_inverse(truth, sample_object(rng, 5000)[0])
    K.icp(src, tgt, normals)  # warm up
    start = time.perf_counter()
    res = K.icp(src, tgt, normals, max_iterations=30, tolerance=0.0)
    elapsed = time.perf_counter() - start
    assert res["iterations"] == 30
    assert elapsed < 0.25, elapsed  # ~15 ms unloaded; generous for a shared machine


def test_bad_input(model):
    tgt, normals = model
    src = tgt[:100]

    def check(exc, words, **kw):
        args = dict(src=src, tgt=tgt, tgt_normals=normals)
        args.update(kw)
        with pytest.raises(exc) as info:
            K.icp(**args)
        for w in words:
            assert w in str(info.value), str(info.value)

    check(ValueError, ["'src'", "(N, 3)"], src=src[:, :2])
    check(ValueError, ["'src'"], src=src[:0])
    check(ValueError, ["'tgt'"], tgt=tgt[:2], tgt_normals=None)
    check(ValueError, ["'tgt_normals'", "(M, 3)"], tgt_normals=normals[:10])
    check(ValueError, ["'tgt'", "NaN"], tgt=np.where(tgt > 0.9, np.nan, tgt))
    check(ValueError, ["'init'", "(7,)"], init=np.zeros(6))
    check(ValueError, ["'init'", "unit"], init=np.r_[0, 0, 0, 0, 0, 0, 3.0])
    check(ValueError, ["'init'", "rigid"], init=2 * np.eye(4))
    check(ValueError, ["'method'"], method="plane")
    check(ValueError, ["'robust_kernel'"], robust_kernel="cauchy", kernel_scale=1.0)
    check(ValueError, ["'kernel_scale'"], robust_kernel="huber")
    check(ValueError, ["'max_correspondence_distance'"], max_correspondence_distance=-1.0)
    check(ValueError, ["'max_iterations'"], max_iterations=-1)
    check(TypeError, ["'src'"], src="points")


def test_result_does_not_depend_on_thread_count(model):
    tgt, normals = model
    rng = np.random.default_rng(5)
    truth = pose_of(15.0, rng)
    src = apply_inverse(truth, sample_object(rng, 5000)[0])
    try:
        K.set_num_threads(1)
        one = K.icp(src, tgt, normals, tolerance=0.0, max_iterations=10)
        K.set_num_threads(2)
        two = K.icp(src, tgt, normals, tolerance=0.0, max_iterations=10)
    finally:
        K.set_num_threads(0)
    np.testing.assert_array_equal(one["pose"], two["pose"])
    assert one["inlier_rmse"] == two["inlier_rmse"]


def test_tukey_with_every_pair_rejected_does_not_claim_convergence(model):
    tgt, normals = model
    src = tgt[:500] + np.array([0.0, 0.0, 0.5])  # every residual beyond the cut-off
    res = K.icp(src, tgt, normals, method="point_to_point", robust_kernel="tukey", kernel_scale=1e-3)
    assert res["iterations"] == 0 and not res["converged"]
    np.testing.assert_allclose(res["pose"], [0, 0, 0, 0, 0, 0, 1])
