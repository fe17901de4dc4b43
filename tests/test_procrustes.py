"""Weighted Procrustes: exact recovery, agreement with scipy's weighted
align_vectors, degeneracy flags, the analytic backward against central
differences (random, noisy, near-degenerate and repeated-singular-value
configurations), the torch autograd Function (gradcheck) and bad input."""

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from manif_py.registration import kernels as K
from manif_py.registration.model import procrustes_torch as PT

torch.set_num_threads(1)


def random_rotations(rng, n):
    return Rotation.random(n, random_state=rng.integers(1 << 31)).as_matrix()


def make_problem(rng, B, P, noise=0.0):
    src = rng.normal(size=(B, P, 3))
    R = random_rotations(rng, B)
    t = rng.normal(size=(B, 3))
    tgt = np.einsum("bij,bpj->bpi", R, src) + t[:, None] + noise * rng.normal(size=(B, P, 3))
    w = rng.uniform(0.1, 1.0, size=(B, P))
    return src, tgt, w, R, t


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_recovers_pose_from_noiseless_data(dtype, tol):
    rng = np.random.default_rng(0)
    src, tgt, w, R, t = make_problem(rng, 32, 50)
    Rg, tg, ok = K.weighted_procrustes(src.astype(dtype), tgt.astype(dtype), w.astype(dtype))
    assert Rg.dtype == dtype and tg.dtype == dtype and ok.dtype == bool and ok.all()
    np.testing.assert_allclose(Rg, R, atol=tol)
    np.testing.assert_allclose(tg, t, atol=10 * tol)
    np.testing.assert_allclose(np.linalg.det(Rg.astype(np.float64)), 1.0, atol=10 * tol)


def test_matches_scipy_align_vectors_on_noisy_data():
    rng = np.random.default_rng(1)
    src, tgt, w, _, _ = make_problem(rng, 8, 40, noise=0.3)
    R, t, ok = K.weighted_procrustes(src, tgt, w)
    assert ok.all()
    for b in range(8):
        sb = (w[b, :, None] * src[b]).sum(0) / w[b].sum()
        yb = (w[b, :, None] * tgt[b]).sum(0) / w[b].sum()
        rot, _ = Rotation.align_vectors(tgt[b] - yb, src[b] - sb, weights=w[b])
        np.testing.assert_allclose(R[b], rot.as_matrix(), atol=1e-10)
        np.testing.assert_allclose(t[b], yb - R[b] @ sb, atol=1e-10)


def test_zero_weights_are_ignored():
    rng = np.random.default_rng(2)
    src, tgt, w, R, t = make_problem(rng, 4, 30)
    tgt[:, :10] += rng.normal(size=(4, 10, 3)) * 5  # outliers ...
    w[:, :10] = 0.0  # ... switched off
    Rg, tg, ok = K.weighted_procrustes(src, tgt, w)
    assert ok.all()
    np.testing.assert_allclose(Rg, R, atol=1e-12)
    np.testing.assert_allclose(tg, t, atol=1e-12)


def test_degenerate_inputs_are_flagged_not_nan():
    rng = np.random.default_rng(3)
    P = 12
    src = rng.normal(size=(6, P, 3))
    tgt = rng.normal(size=(6, P, 3))
    w = np.ones((6, P))
    w[0] = 0.0  # no weight at all
    w[1] = 1e-12  # total weight below eps
    w[2] = 0.0
    w[2, 3] = 1.0  # a single point
    line = np.linspace(-1, 1, P)[:, None] * np.array([1.0, 2.0, -0.5])
    src[3], tgt[3] = line, line @ random_rotations(rng, 1)[0].T  # collinear pairs
    src[4] = tgt[4] = 0.0  # all points coincide
    src[5, :, 2] = 0.0  # planar: rotation still unique
    tgt[5] = src[5] @ random_rotations(rng, 1)[0].T
    R, t, ok = K.weighted_procrustes(src, tgt, w)
    assert np.isfinite(R).all() and np.isfinite(t).all()
    assert ok.tolist() == [False, False, False, False, False, True]
    np.testing.assert_allclose(R[:2], np.tile(np.eye(3), (2, 1, 1)))
    np.testing.assert_allclose(t[:2], 0)
    np.testing.assert_allclose(np.einsum("bij,bkj->bik", R, R), np.tile(np.eye(3), (6, 1, 1)), atol=1e-12)
    # The single point and the line are still matched exactly.
    np.testing.assert_allclose(R[2] @ src[2, 3] + t[2], tgt[2, 3], atol=1e-12)
    np.testing.assert_allclose(src[3] @ R[3].T + t[3], tgt[3], atol=1e-12)
    g = K.weighted_procrustes_backward(src, tgt, w, R, t, np.ones((6, 3, 3)), np.ones((6, 3)))
    assert all(np.isfinite(x).all() for x in g)
    assert all(np.all(x[:2] == 0) for x in g)


def loss(src, tgt, w, GR, Gt):
    R, t, _ = K.weighted_procrustes(src, tgt, w)
    return float((R * GR).sum() + (t * Gt).sum())


def central_differences(src, tgt, w, GR, Gt, h=1e-5):
    """Five-point central differences: O(h^4) truncation, so the near-degenerate
    sets (large third derivatives) are resolved to ~1e-7 as well."""
    args = [src, tgt, w]
    grads = []
    for a in range(3):
        g = np.zeros_like(args[a])
        for i in np.ndindex(args[a].shape):
            vals = []
            for step in (2, 1, -1, -2):
                x = [v.copy() for v in args]
                x[a][i] += step * h
                vals.append(loss(*x, GR, Gt))
            g[i] = (-vals[0] + 8 * vals[1] - 8 * vals[2] + vals[3]) / (12 * h)
        grads.append(g)
    return grads


def isotropic_cloud(rng):
    """Octahedron vertices: identity covariance, so all singular values of M repeat."""
    src = np.concatenate([np.eye(3), -np.eye(3)])[None]
    R = random_rotations(rng, 1)
    return src, np.einsum("bij,bpj->bpi", R, src) + 0.1, np.ones((1, 6))


def configurations():
    rng = np.random.default_rng(4)
    out = {}
    src, tgt, w, _, _ = make_problem(rng, 2, 7)
    out["noiseless"] = (src, tgt, w)
    src, tgt, w, _, _ = make_problem(rng, 2, 7, noise=0.5)
    out["noisy"] = (src, tgt, w)
    src, tgt, w, _, _ = make_problem(rng, 2, 7, noise=0.05)
    src = src * np.array([1.0, 1.0, 1e-3])  # nearly planar
    out["near_planar"] = (src, tgt, w)
    line = np.linspace(-1, 1, 7)[None, :, None] * np.array([1.0, -1.0, 0.5])
    src = line + 2e-3 * rng.normal(size=(2, 7, 3))  # nearly collinear (ratio ~1e-5)
    tgt = np.einsum("bij,bpj->bpi", random_rotations(rng, 2), src) + 0.01 * rng.normal(size=(2, 7, 3))
    out["near_collinear"] = (src, tgt, rng.uniform(0.2, 1, size=(2, 7)))
    src, tgt, w, _, _ = make_problem(rng, 2, 7, noise=0.01)
    w[:, :4] = 1e-4  # nearly all weight on three points (the steps keep w >= 0)
    out["few_heavy_points"] = (src, tgt, w)
    out["repeated_singular_values"] = isotropic_cloud(rng)
    src, tgt, w, _, _ = make_problem(rng, 1, 7)
    half_turn = Rotation.from_rotvec([0, np.pi - 1e-3, 0]).as_matrix()  # near-pi rotation
    out["near_pi"] = (src, src @ half_turn.T, w)
    return out


CONFIGS = configurations()


@pytest.mark.parametrize("name", list(CONFIGS))
def test_backward_matches_central_differences(name):
    src, tgt, w = CONFIGS[name]
    rng = np.random.default_rng(5)
    B = src.shape[0]
    GR, Gt = rng.normal(size=(B, 3, 3)), rng.normal(size=(B, 3))
    R, t, ok = K.weighted_procrustes(src, tgt, w)
    assert ok.all(), name
    analytic = K.weighted_procrustes_backward(src, tgt, w, R, t, GR, Gt)
    numeric = central_differences(src, tgt, w, GR, Gt)
    for a, n, label in zip(analytic, numeric, ("src", "tgt", "w")):
        scale = max(np.abs(n).max(), 1.0)
        assert np.abs(a - n).max() <= 1e-6 * scale, (name, label, np.abs(a - n).max(), scale)


def test_float32_backward_close_to_float64():
    src, tgt, w = CONFIGS["noisy"]
    rng = np.random.default_rng(6)
    GR, Gt = rng.normal(size=(2, 3, 3)), rng.normal(size=(2, 3))
    R, t, _ = K.weighted_procrustes(src, tgt, w)
    g64 = K.weighted_procrustes_backward(src, tgt, w, R, t, GR, Gt)
    f = lambda x: x.astype(np.float32)
    R32, t32, _ = K.weighted_procrustes(f(src), f(tgt), f(w))
    g32 = K.weighted_procrustes_backward(f(src), f(tgt), f(w), R32, t32, f(GR), f(Gt))
    for a, b in zip(g64, g32):
        assert b.dtype == np.float32
        np.testing.assert_allclose(b, a, atol=2e-4 * max(1.0, np.abs(a).max()))


def test_torch_gradcheck_cpu():
    src, tgt, w = (torch.tensor(x) for x in CONFIGS["noisy"])
    for x in (src, tgt, w):
        x.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b, c: PT.weighted_procrustes(a, b, c), (src, tgt, w),
                                    eps=1e-6, atol=1e-7, rtol=1e-6)


def test_torch_path_matches_cpp():
    """The pure-torch path (used for CUDA tensors) against the C++ kernels, run on CPU."""
    for name in ("noisy", "near_planar", "repeated_singular_values"):
        src, tgt, w = CONFIGS[name]
        rng = np.random.default_rng(7)
        GR, Gt = rng.normal(size=(src.shape[0], 3, 3)), rng.normal(size=(src.shape[0], 3))
        R, t, ok = K.weighted_procrustes(src, tgt, w)
        Rt, tt, okt = PT.forward_torch(*(torch.tensor(x) for x in (src, tgt, w)))
        np.testing.assert_allclose(Rt.numpy(), R, atol=1e-12)
        np.testing.assert_allclose(tt.numpy(), t, atol=1e-12)
        assert okt.numpy().tolist() == ok.tolist()
        g = K.weighted_procrustes_backward(src, tgt, w, R, t, GR, Gt)
        gt_ = PT.backward_torch(*(torch.tensor(x) for x in (src, tgt, w, R, GR, Gt)))
        for a, b in zip(g, gt_):
            np.testing.assert_allclose(b.numpy(), a, atol=1e-10)


def test_torch_function_degenerate_and_partial_grads():
    src = torch.zeros(2, 5, 3, dtype=torch.float64, requires_grad=True)
    tgt = torch.randn(2, 5, 3, dtype=torch.float64)
    w = torch.ones(2, 5, dtype=torch.float64)
    R, t, ok = PT.weighted_procrustes(src, tgt, w, return_ok=True)
    assert not ok.any() and torch.isfinite(R).all()
    t.sum().backward()  # only t used: grad_R arrives as None
    assert torch.isfinite(src.grad).all()
    R32, t32 = PT.weighted_procrustes(*(torch.tensor(x, dtype=torch.float32) for x in CONFIGS["noisy"]))
    assert R32.dtype == torch.float32


@pytest.mark.parametrize("mutate,exc,arg", [
    (lambda s, y, w: (s[..., :2], y, w), ValueError, "src"),
    (lambda s, y, w: (s, y[:, :-1], w), ValueError, "tgt"),
    (lambda s, y, w: (s, y, w[:, :-1]), ValueError, "w"),
    (lambda s, y, w: (s, y, -w), ValueError, "w"),
    (lambda s, y, w: (np.where(s > 1, np.nan, s), y, w), ValueError, "src"),
    (lambda s, y, w: (s, np.where(y > 1, np.inf, y), w), ValueError, "tgt"),
    (lambda s, y, w: (s[:0], y[:0], w[:0]), ValueError, "src"),
    (lambda s, y, w: (s[:, :0], y[:, :0], w[:, :0]), ValueError, "src"),
    (lambda s, y, w: (s.astype(complex), y, w), TypeError, "src"),
    (lambda s, y, w: (None, y, w), TypeError, "src"),
    (lambda s, y, w: (s, y, "weights"), TypeError, "w"),
])
def test_bad_input(mutate, exc, arg):
    rng = np.random.default_rng(8)
    src, tgt, w, _, _ = make_problem(rng, 3, 6)
    with pytest.raises(exc) as info:
        K.weighted_procrustes(*mutate(src, tgt, w))
    assert f"'{arg}'" in str(info.value)


def test_backward_bad_input():
    rng = np.random.default_rng(9)
    src, tgt, w, _, _ = make_problem(rng, 3, 6)
    R, t, _ = K.weighted_procrustes(src, tgt, w)
    for kwargs, arg in [(dict(grad_R=np.ones((3, 3))), "grad_R"), (dict(grad_t=np.ones((2, 3))), "grad_t"),
                        (dict(R=R[:, :2]), "R"), (dict(grad_t=np.full((3, 3), np.nan)), "grad_t")]:
        args = dict(src=src, tgt=tgt, w=w, R=R, t=t, grad_R=np.ones((3, 3, 3)), grad_t=np.ones((3, 3)))
        args.update(kwargs)
        with pytest.raises(ValueError) as info:
            K.weighted_procrustes_backward(**args)
        assert f"'{arg}'" in str(info.value) and "(B, 3" in str(info.value)
    with pytest.raises(ValueError, match="'w'"):
        PT.weighted_procrustes(torch.zeros(2, 4, 3), torch.zeros(2, 4, 3), torch.zeros(2, 3))
    with pytest.raises(TypeError, match="'src'"):
        PT.weighted_procrustes(np.zeros((2, 4, 3)), torch.zeros(2, 4, 3), torch.zeros(2, 4))


def test_reflection_ambiguous_set_is_flagged():
    """tgt = diag(3, 1, -1) src on an octahedron: M = diag(6, 2, -2), the best proper
    rotation is any rotation about x (s2 + d s3 = 0), so ok is False; R is still a
    rotation and the gradient finite."""
    src = np.concatenate([np.eye(3), -np.eye(3)])[None]
    tgt = src * np.array([3.0, 1.0, -1.0])
    w = np.ones((1, 6))
    R, t, ok = K.weighted_procrustes(src, tgt, w)
    assert not ok[0]
    np.testing.assert_allclose(R[0] @ R[0].T, np.eye(3), atol=1e-12)
    assert np.linalg.det(R[0]) == pytest.approx(1.0)
    assert R[0][0, 0] == pytest.approx(1.0)  # a rotation about x
    g = K.weighted_procrustes_backward(src, tgt, w, R, t, np.ones((1, 3, 3)), np.ones((1, 3)))
    assert all(np.isfinite(x).all() for x in g)
    *_, ok_t = PT.forward_torch(*(torch.tensor(x) for x in (src, tgt, w)))
    assert not ok_t[0]
