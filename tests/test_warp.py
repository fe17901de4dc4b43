"""manif_py.decomp.warp_affine / warp_homography against torch's grid_sample."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from manif_py import decomp

torch.set_num_threads(1)


def torch_affine(images, theta, out_size):
    x = torch.from_numpy(images)
    squeeze = x.ndim == 3
    if squeeze:
        x = x[:, None]
    th = torch.from_numpy(np.broadcast_to(theta, (x.shape[0], 2, 3)).copy()).to(x.dtype)
    grid = F.affine_grid(th, (x.shape[0], x.shape[1], *out_size), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return (out[:, 0] if squeeze else out).numpy()


def torch_homography(images, H, out_size):
    x = torch.from_numpy(images)
    Ho, Wo = out_size
    xs = (2 * torch.arange(Wo, dtype=torch.float64) + 1) / Wo - 1
    ys = (2 * torch.arange(Ho, dtype=torch.float64) + 1) / Ho - 1
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    pts = torch.stack([xx, yy, torch.ones_like(xx)], -1)                    # (Ho, Wo, 3)
    Hm = torch.from_numpy(np.broadcast_to(H, (x.shape[0], 3, 3)).copy())
    q = torch.einsum("nij,hwj->nhwi", Hm, pts)
    grid = (q[..., :2] / q[..., 2:]).to(x.dtype)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False).numpy()


def random_theta(rng, n):
    A = np.eye(2) + 0.4 * rng.normal(size=(n, 2, 2))
    return np.concatenate([A, 0.3 * rng.normal(size=(n, 2, 1))], -1)


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-6)])
@pytest.mark.parametrize("channels", [None, 3])
@pytest.mark.parametrize("out_size", [None, (7, 13)])
def test_affine_matches_grid_sample(dtype, tol, channels, out_size):
    rng = np.random.default_rng(0)
    shape = (4, 12, 10) if channels is None else (4, channels, 12, 10)
    img = rng.uniform(-1, 1, size=shape).astype(dtype)
    theta = random_theta(rng, 4)
    theta[0] = [[1, 0, 0], [0, 1, 0]]     # identity
    out = decomp.warp_affine(img, theta, out_size)
    size = out_size or img.shape[-2:]
    # float32 is compared with torch in float64: our sampling positions are computed in
    # double, torch's float32 grid is off by float32 rounding.
    ref = torch_affine(img.astype(np.float64), theta, size)
    assert out.dtype == dtype and out.shape == ref.shape
    assert np.abs(out - ref).max() < tol
    if dtype == np.float32:
        assert np.abs(out - torch_affine(img, theta.astype(np.float32), size)).max() < 1e-5
    if out_size is None:
        assert np.abs(out[0] - img[0]).max() < tol   # identity reproduces the image


def test_affine_broadcast_single_theta():
    rng = np.random.default_rng(1)
    img = rng.normal(size=(3, 2, 9, 9))
    theta = random_theta(rng, 1)[0]
    out = decomp.warp_affine(img, theta)
    assert np.abs(out - torch_affine(img, theta, (9, 9))).max() < 1e-12
    assert np.abs(decomp.warp_affine(img, theta[None]) - out).max() == 0


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-6)])
@pytest.mark.parametrize("channels", [None, 2])
def test_homography_matches_grid_sample(dtype, tol, channels):
    rng = np.random.default_rng(2)
    img = rng.uniform(-1, 1, size=(3, 2, 11, 8) if channels else (3, 11, 8)).astype(dtype)
    H = np.eye(3) + 0.2 * rng.normal(size=(3, 3, 3))
    H[:, 2, :2] *= 0.5    # keep the third coordinate away from 0 on [-1, 1]^2
    H[:, 2, 2] = 1.0
    H[0] = np.eye(3)
    out = decomp.warp_homography(img, H, (9, 6))
    x = img.astype(np.float64) if channels else img.astype(np.float64)[:, None]
    ref = torch_homography(x, H, (9, 6))
    ref = ref if channels else ref[:, 0]
    assert out.dtype == dtype and out.shape == ref.shape
    assert np.abs(out - ref).max() < tol
    # An affine H gives the affine warp.
    A = np.concatenate([random_theta(rng, 3), np.tile([[[0, 0, 1.0]]], (3, 1, 1))], 1)
    assert np.abs(decomp.warp_homography(img, A) - decomp.warp_affine(img, A[:, :2])).max() < 10 * tol


def test_large_batch_parallel_equals_serial():
    rng = np.random.default_rng(3)
    img = rng.normal(size=(40, 40, 40))
    theta = random_theta(rng, 40)
    out = decomp.warp_affine(img, theta)         # 64k output pixels: threaded
    ref = np.concatenate([decomp.warp_affine(img[i:i + 1], theta[i:i + 1]) for i in range(40)])
    assert np.array_equal(out, ref)
    assert np.abs(out - torch_affine(img, theta, (40, 40))).max() < 1e-12


def test_bad_input():
    img = np.zeros((2, 5, 5))
    theta = np.tile(np.eye(2, 3), (2, 1, 1))
    with pytest.raises(ValueError, match=r"'images'.*\(N, C, H, W\) or \(N, H, W\)"):
        decomp.warp_affine(np.zeros((5, 5)), theta)
    with pytest.raises(ValueError, match="'images'.*empty"):
        decomp.warp_affine(np.zeros((0, 5, 5)), theta)
    with pytest.raises(ValueError, match=r"'theta'.*\(N, 2, 3\) or \(2, 3\)"):
        decomp.warp_affine(img, np.eye(3))
    with pytest.raises(ValueError, match=r"'theta'.*3 transforms for 2 images"):
        decomp.warp_affine(img, np.tile(np.eye(2, 3), (3, 1, 1)))
    with pytest.raises(ValueError, match="'theta'.*NaN"):
        decomp.warp_affine(img, np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match=r"'H'.*\(N, 3, 3\) or \(3, 3\)"):
        decomp.warp_homography(img, theta)
    with pytest.raises(TypeError, match="'images'"):
        decomp.warp_affine(img.astype(complex), theta)
    with pytest.raises(TypeError, match="'out_size'"):
        decomp.warp_affine(img, theta, out_size=5)
    with pytest.raises(ValueError, match="'out_size'"):
        decomp.warp_affine(img, theta, out_size=(0, 4))
