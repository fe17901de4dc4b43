"""Pose conversions of the registration pipeline: the core's SE3, no scipy."""

import subprocess
import sys

import numpy as np
import pytest

from manif_py.registration import poses


def random_rotations(rng, n):
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    x, y, z, w = q.T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
    ], 1)


def test_round_trip_through_storage_and_matrices():
    rng = np.random.default_rng(0)
    R, t = random_rotations(rng, 50), rng.normal(size=(50, 3))
    H = poses.pose_from_rt(R, t)
    assert H.shape == (50, 7)
    np.testing.assert_allclose(np.linalg.norm(H[:, 3:], axis=1), 1.0, atol=1e-12)
    R2, t2 = poses.rt_from_pose(H)
    np.testing.assert_allclose(R2, R, atol=1e-12)
    np.testing.assert_allclose(t2, t, atol=1e-15)
    T = np.tile(np.eye(4), (50, 1, 1))
    T[:, :3, :3], T[:, :3, 3] = R, t
    np.testing.assert_allclose(poses.matrix_from_pose(poses.pose_from_matrix(T)), T, atol=1e-12)


def test_float32_rotations_are_projected_onto_so3():
    # what the network's float32 Procrustes returns: orthonormal only to ~1e-7, sometimes worse
    rng = np.random.default_rng(1)
    R = random_rotations(rng, 20)
    noisy = (R + 3e-6 * rng.normal(size=R.shape)).astype(np.float32)
    R2, _ = poses.rt_from_pose(poses.pose_from_rt(noisy, np.zeros((20, 3), np.float32)))
    np.testing.assert_allclose(R2, R, atol=2e-5)
    np.testing.assert_allclose(np.einsum("bji,bjk->bik", R2, R2), np.tile(np.eye(3), (20, 1, 1)), atol=1e-12)


def test_bad_shapes_name_the_argument():
    with pytest.raises(ValueError, match="'R'.*\\(B, 3, 3\\)"):
        poses.pose_from_rt(np.eye(3), np.zeros(3))
    with pytest.raises(ValueError, match="'t'"):
        poses.pose_from_rt(np.eye(3)[None], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="finite"):
        poses.pose_from_rt(np.full((1, 3, 3), np.nan), np.zeros((1, 3)))


def test_pose_conversions_do_not_need_scipy():
    # scipy made unimportable: the conversions and the pipeline module must still load and work
    code = ("import sys; sys.modules['scipy'] = None\n"
            "import numpy as np\n"
            "from manif_py.registration import poses, kernels\n"
            "H = poses.pose_from_matrix(np.eye(4)[None]); assert np.allclose(H, [[0,0,0,0,0,0,1]])\n"
            "print(kernels.add_s(np.random.default_rng(0).normal(size=(64, 3)), np.eye(4), np.eye(4), 1.0)['add_s'])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) == 0.0
