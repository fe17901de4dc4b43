"""manif_py.decomp: polar, SPD functions, the chart and its Jacobians, sampling,
pairwise kernel inputs against the torch reference, and bad input."""
import numpy as np
import pytest
import scipy.linalg as sl
import torch

from manif_py import decomp
from manif_py import decomp_torch

torch.set_num_threads(1)

DIMS = {"SO2": (2, 1), "SL2": (2, 3), "GL2": (2, 4), "SL3": (3, 8), "GL3": (3, 9)}
GROUPS = list(DIMS)


def rot2(t):
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


def rot3(w):
    return sl.expm(np.array([[0, -w[2], w[1]], [w[2], 0, -w[0]], [-w[1], w[0], 0]]))


def hard_elements(group, rng):
    """Random and hard elements of the group: identity, near identity, rotations
    near pi, strongly anisotropic and repeated-eigenvalue SPD factors."""
    n, _ = DIMS[group]
    rots = [np.eye(n)]
    if n == 2:
        rots += [rot2(1e-9), rot2(np.pi - 1e-7), rot2(-np.pi + 1e-7), rot2(2.0)]
    else:
        rots += [rot3([1e-9, 0, 0]), rot3(np.array([1.0, 2.0, -0.5]) / np.linalg.norm([1.0, 2.0, -0.5]) * (np.pi - 1e-6)), rot3([0.3, -1.1, 0.4])]
    if group == "SO2":
        return np.stack(rots + [rot2(t) for t in rng.uniform(-np.pi, np.pi, 5)])
    spds = [np.eye(n), np.diag([1 + 1e-9] + [1] * (n - 1)), np.diag([30.0] + [1 / 30.0] * (n - 1))]
    if n == 3:
        spds.append(np.diag([2.0, 2.0, 0.25]))          # repeated eigenvalue
        spds.append(np.diag([2.0, 2.0 + 1e-9, 0.25]))   # near-repeated
    Q = rots[-1]
    spds += [Q @ s @ Q.T for s in spds[1:]]
    for _ in range(4):
        A = rng.normal(size=(n, n))
        spds.append(sl.expm(0.6 * (A + A.T)))
    out = []
    for P in spds:
        if group.startswith("SL"):
            P = P / np.linalg.det(P) ** (1.0 / n)
        for R in rots:
            out.append(P @ R)
    return np.stack(out)


# ---------------------------------------------------------------- polar / SPD

@pytest.mark.parametrize("group", ["GL2", "GL3"])
def test_polar_matches_scipy(group):
    rng = np.random.default_rng(1)
    g = hard_elements(group, rng)
    P, R = decomp.polar(g)
    n = g.shape[1]
    for i in range(len(g)):
        Rs, Ps = sl.polar(g[i], side="left")
        scale = np.abs(g[i]).max()
        assert np.abs(P[i] - Ps).max() < 1e-12 * scale
        assert np.abs(R[i] - Rs).max() < 1e-9  # rotations of very anisotropic g are conditioned by 1/sigma
    assert np.allclose(P @ R, g, atol=1e-12 * np.abs(g).max())
    assert np.allclose(R @ R.transpose(0, 2, 1), np.eye(n), atol=1e-13)
    assert np.allclose(np.linalg.det(R), 1.0, atol=1e-13)


def test_polar_nearly_singular_3x3():
    rng = np.random.default_rng(2)
    U, V = rot3([0.3, 0.2, -1.0]), rot3([-1.2, 0.5, 0.1])
    g = U @ np.diag([1.0, 1e-3, 1e-10]) @ V.T
    P, R = decomp.polar(g[None])
    assert np.abs(R[0] - U @ V.T).max() < 1e-6
    # P keeps relative accuracy in its smallest eigenvalue (squaring g g^T would not).
    w = np.linalg.eigvalsh(P[0])
    assert abs(w[0] / 1e-10 - 1) < 1e-4
    assert np.abs(P[0] @ R[0] - g).max() < 1e-15


@pytest.mark.parametrize("n", [2, 3])
def test_spd_functions_match_scipy(n):
    rng = np.random.default_rng(3)
    mats = []
    for _ in range(5):
        A = rng.normal(size=(n, n))
        mats.append(sl.expm(0.5 * (A + A.T)))
    Q = rot2(0.7) if n == 2 else rot3([0.2, 0.9, -0.4])
    mats += [np.eye(n), Q @ np.diag([4.0] + [4.0] * (n - 1)) @ Q.T, Q @ np.diag([4.0, 4.0 * (1 + 1e-10)] + [0.01] * (n - 2)) @ Q.T,
             Q @ np.diag([1e4] + [1e-4] * (n - 1)) @ Q.T]
    P = np.stack(mats)
    P = 0.5 * (P + P.transpose(0, 2, 1))
    L = decomp.spd_log(P)
    for i in range(len(P)):
        # The small eigenvalues of an ill-conditioned P are only known to eps * |P|.
        cond = np.linalg.cond(P[i])
        assert np.abs(L[i] - sl.logm(P[i]).real).max() < 1e-13 * cond * max(1, np.abs(L[i]).max())
        assert np.abs(decomp.spd_sqrt(P)[i] - sl.sqrtm(P[i]).real).max() < 1e-13 * cond * np.sqrt(np.abs(P[i]).max())
        isq = decomp.spd_inv_sqrt(P)[i]
        assert np.allclose(isq @ P[i] @ isq, np.eye(n), atol=1e-13 * cond)
        assert np.abs(decomp.spd_exp(L)[i] - P[i]).max() < 1e-12 * np.abs(P[i]).max()
        assert np.abs(decomp.spd_exp(L[i:i + 1])[0] - sl.expm(L[i])).max() < 1e-10 * np.abs(P[i]).max()


def test_spd_float32_keeps_dtype():
    P = np.stack([np.diag([2.0, 3.0]), np.array([[2.0, 0.5], [0.5, 1.0]])]).astype(np.float32)
    for f in (decomp.spd_log, decomp.spd_sqrt, decomp.spd_inv_sqrt, decomp.spd_exp):
        out = f(P)
        assert out.dtype == np.float32
        assert np.allclose(out, f(P.astype(np.float64)), atol=1e-5)


# ---------------------------------------------------------------- chart

@pytest.mark.parametrize("group", GROUPS)
def test_basis_orthonormal_and_hat_vee(group):
    n, d = DIMS[group]
    E = decomp.hat(group, np.eye(d))
    assert np.allclose(np.einsum("aij,bij->ab", E, E), np.eye(d), atol=1e-15)
    assert np.allclose(E, decomp_torch.basis(group).numpy(), atol=1e-15)
    if group.startswith("SL"):
        assert np.allclose(np.trace(E, axis1=1, axis2=2), 0)
    x = np.random.default_rng(4).normal(size=(6, d))
    assert np.allclose(decomp.vee(group, decomp.hat(group, x)), x, atol=1e-14)


def test_n2_bases_are_the_papers():
    s = 1 / np.sqrt(2)
    gl2 = [[[1, 0], [0, 0]], [[0, s], [s, 0]], [[0, 0], [0, 1]], [[0, -s], [s, 0]]]
    sl2 = [[[0, s], [s, 0]], [[0, -s], [s, 0]], [[s, 0], [0, -s]]]
    assert np.allclose(decomp.hat("GL2", np.eye(4)), gl2)
    assert np.allclose(decomp.hat("SL2", np.eye(3)), sl2)
    assert np.allclose(decomp.hat("SO2", np.eye(1)), [[[0, -s], [s, 0]]])


@pytest.mark.parametrize("group", GROUPS)
def test_chart_is_expm_of_parts(group):
    n, d = DIMS[group]
    x = np.random.default_rng(5).normal(size=(6, d))
    g = decomp.chart(group, x)
    for i, X in enumerate(decomp.hat(group, x)):
        ref = sl.expm(0.5 * (X + X.T)) @ sl.expm(0.5 * (X - X.T))
        assert np.abs(g[i] - ref).max() < 1e-12 * np.abs(ref).max()
    if group[:2] in ("SL", "SO"):
        assert np.allclose(np.linalg.det(g), 1.0, atol=1e-12)


@pytest.mark.parametrize("group", GROUPS)
def test_chart_roundtrips(group):
    rng = np.random.default_rng(6)
    n, d = DIMS[group]
    g = hard_elements(group, rng)
    x = decomp.chart_inv(group, g)
    assert np.abs(decomp.chart(group, x) - g).max() < 1e-9 * np.abs(g).max()
    # x -> g -> x, with rotation angles inside (-pi, pi) so that the log is the inverse.
    x = rng.normal(size=(20, d)) * 0.8
    x[0] = 0
    x[1] = 1e-9
    back = decomp.chart_inv(group, decomp.chart(group, x))
    assert np.abs(back - x).max() < 1e-11


def numeric_jacobian(f, x, h):
    cols = []
    for k in range(x.shape[1]):
        e = np.zeros_like(x)
        e[:, k] = h
        cols.append((f(x + e) - f(x - e)) / (2 * h))
    return np.stack(cols, -1)


@pytest.mark.parametrize("group", GROUPS)
def test_chart_jacobian_numeric(group):
    rng = np.random.default_rng(7)
    n, d = DIMS[group]
    x = rng.normal(size=(6, d))
    x[0] = 0                    # identity
    x[1] = 1e-8                 # near identity
    if d > 1:
        x[2, 1:] = 0            # repeated eigenvalues of X_p (GL3: 2 of 3 equal)
    g, J = decomp.chart(group, x, jacobians=True)
    Jn = numeric_jacobian(lambda y: decomp.chart(group, y).reshape(len(y), -1), x, 1e-6)
    assert J.shape == (6, n * n, d)
    assert np.abs(J - Jn).max() < 1e-8 * max(1, np.abs(J).max())


@pytest.mark.parametrize("group", GROUPS)
def test_chart_inv_jacobian_numeric(group):
    rng = np.random.default_rng(8)
    n, d = DIMS[group]
    g = hard_elements(group, rng)
    if n == 3:  # keep away from angle pi, where the log itself jumps
        g = np.concatenate([g[::4], decomp.chart(group, rng.normal(size=(4, d)) * 0.7)])
    else:
        ang = np.arctan2(g[:, 1, 0] - g[:, 0, 1], g[:, 0, 0] + g[:, 1, 1])
        g = g[np.abs(ang) < 3.0]
    x, J = decomp.chart_inv(group, g, jacobians=True)
    assert J.shape == (len(g), d, n * n)
    # Small steps: SL / SO2 inputs must stay within 1e-6 of the group.
    h = 1e-8 / max(1.0, np.abs(g).max()) if group[:2] in ("SL", "SO") else 1e-6
    flat = g.reshape(len(g), -1)
    Jn = numeric_jacobian(lambda y: decomp.chart_inv(group, y.reshape(-1, n, n)), flat, h)
    tol = (1e-5 if group[:2] in ("SL", "SO") else 1e-7) * max(1.0, np.abs(J).max())
    assert np.abs(J - Jn).max() < tol


def test_chart_inv_jacobian_nearly_singular_gl2():
    g = np.array([[[1.0, 0.2], [0.0, 1e-5]], [[1e-4, 0.0], [0.3, 2.0]]])
    x, J = decomp.chart_inv("GL2", g, jacobians=True)
    Jn = numeric_jacobian(lambda y: decomp.chart_inv("GL2", y.reshape(-1, 2, 2)), g.reshape(2, -1), 1e-9)
    assert np.abs(J - Jn).max() < 1e-5 * np.abs(J).max()


def test_float32_chart():
    x = np.random.default_rng(9).normal(size=(5, 4)).astype(np.float32)
    g, J = decomp.chart("GL2", x, jacobians=True)
    assert g.dtype == np.float32 and J.dtype == np.float32
    assert np.allclose(g, decomp.chart("GL2", x.astype(np.float64)), atol=1e-5)
    assert decomp.chart_inv("GL2", g).dtype == np.float32


# ---------------------------------------------------------------- sampling

@pytest.mark.parametrize("group", GROUPS)
def test_sample_inverse_pairs_and_determinism(group):
    n, _ = DIMS[group]
    g, gi = decomp.sample(group, 200, seed=11, spd_std=0.4)
    assert g.shape == gi.shape == (200, n, n)
    assert np.abs(g @ gi - np.eye(n)).max() < 1e-13
    g2, gi2 = decomp.sample(group, 200, seed=11, spd_std=0.4)
    assert np.array_equal(g, g2) and np.array_equal(gi, gi2)
    assert not np.array_equal(g, decomp.sample(group, 200, seed=12, spd_std=0.4)[0])
    if group[:2] in ("SL", "SO"):
        assert np.abs(np.linalg.det(g) - 1).max() < 1e-13
    # The SPD factor has log-coordinates of std spd_std.
    if group != "SO2":
        x = decomp.chart_inv(group, g)
        p = decomp_torch._p_index(group)
        assert abs(np.std(x[:, p]) / 0.2 - 1) < 0.15   # S^(1/2): half of 0.4


def test_sample_pure_rotations_and_equidistant():
    g, gi = decomp.sample("GL2", 8, seed=0, spd_std=0.0, rotation="equidistant", offset=0.3)
    ang = np.arctan2(g[:, 1, 0], g[:, 0, 0])
    assert np.allclose(np.mod(ang - 0.3 - 2 * np.pi * np.arange(8) / 8 + np.pi, 2 * np.pi) - np.pi, 0, atol=1e-14)
    assert np.allclose(g @ g.transpose(0, 2, 1), np.eye(2), atol=1e-15)
    g, _ = decomp.sample("GL3", 5, seed=3, spd_std=0.0)
    assert np.allclose(g @ g.transpose(0, 2, 1), np.eye(3), atol=1e-14)


@pytest.mark.parametrize("group", ["SO2", "GL3"])
def test_sample_haar_uniform(group):
    n, _ = DIMS[group]
    g, _ = decomp.sample(group, 20000, seed=5, spd_std=0.0)
    # E[R] = 0 under Haar; and E[R_ij^2] = 1/n.
    assert np.abs(g.mean(0)).max() < 0.03
    assert np.abs((g ** 2).mean(0) - 1.0 / n).max() < 0.02
    if n == 2:
        ang = np.arctan2(g[:, 1, 0], g[:, 0, 0])
        hist, _ = np.histogram(ang, bins=8, range=(-np.pi, np.pi))
        assert np.abs(hist / len(ang) - 1 / 8).max() < 0.01


def test_torch_sampler():
    gen = torch.Generator().manual_seed(0)
    for group in GROUPS:
        n, _ = DIMS[group]
        g, gi = decomp_torch.sample(group, 50, gen, spd_std=0.3)
        assert torch.allclose(g @ gi, torch.eye(n, dtype=g.dtype), atol=1e-13)
    g, _ = decomp_torch.sample("SL2", 4, gen, rotation="equidistant", offset=0.1)
    assert torch.allclose(torch.linalg.det(g), torch.ones(4, dtype=g.dtype))


def test_haar_weight():
    g, _ = decomp.sample("GL2", 10, seed=1, spd_std=0.5)
    assert np.allclose(decomp.haar_weight(g), 1 / np.linalg.det(g), rtol=1e-14)
    assert np.allclose(decomp.haar_weight(decomp.sample("SL3", 4, seed=2)[0]), 1.0)


# ---------------------------------------------------------------- pairwise

@pytest.mark.parametrize("group", ["SO2", "SL2", "GL2"])
@pytest.mark.parametrize("sizes", [(10, 10, 5), (16, 16, 5), (3, 7, 1), (5, 4, 7)])
def test_pairwise_matches_torch(group, sizes):
    M, K, k = sizes
    _, hi = decomp.sample(group, M, seed=M, spd_std=0.5)
    h, _ = decomp.sample(group, K, seed=100 + K, spd_std=0.5)
    hi[0] = np.eye(2)   # identity pair features
    inputs, mask, w = decomp.pairwise(group, hi, h, k)
    ti, tm, tw = decomp_torch.pairwise(group, torch.from_numpy(hi), torch.from_numpy(h), k)
    c = {"SO2": 2, "SL2": 4, "GL2": 5}[group]
    assert inputs.shape == (M, K, k * k, 2 + c) and mask.shape == (M, k * k) and w.shape == (K,)
    assert mask.dtype == np.bool_
    assert np.abs(inputs - ti.numpy()).max() < 1e-10
    assert np.array_equal(mask, tm.numpy())
    assert np.abs(w - tw.numpy()).max() < 1e-12


def test_pairwise_features_are_the_chart():
    _, hi = decomp.sample("GL2", 3, seed=1, spd_std=0.6)
    h, _ = decomp.sample("GL2", 4, seed=2, spd_std=0.6)
    inputs, mask, w = decomp.pairwise("GL2", hi, h, 3)
    grid = np.stack(np.meshgrid(np.linspace(-1, 1, 3), np.linspace(-1, 1, 3)), -1).reshape(-1, 2)
    for i in range(3):
        pts = grid @ hi[i].T
        assert np.allclose(inputs[i, :, :, :2], pts[None])
        assert np.array_equal(mask[i], (np.abs(pts) <= 1 + 1e-6).all(-1))
        for j in range(4):
            x = decomp.chart_inv("GL2", (hi[i] @ h[j])[None])[0]
            theta = x[3] / np.sqrt(2)
            assert np.allclose(inputs[i, j, 0, 2:], [x[0], x[1], x[2], np.cos(theta), np.sin(theta)], atol=1e-12)
    assert np.allclose(w, 1 / np.linalg.det(h))


def test_pairwise_dtype():
    _, hi = decomp.sample("SL2", 4, seed=1)
    h, _ = decomp.sample("SL2", 4, seed=2)
    a = decomp.pairwise("SL2", hi, h, 5, dtype=np.float32)
    assert a[0].dtype == np.float32 and a[2].dtype == np.float32
    assert decomp.pairwise("SL2", hi.astype(np.float32), h.astype(np.float32), 5)[0].dtype == np.float32
    assert np.allclose(a[0], decomp.pairwise("SL2", hi, h, 5)[0], atol=1e-6)


# ---------------------------------------------------------------- bad input

def test_bad_group_and_shapes():
    x = np.zeros((2, 4))
    with pytest.raises(ValueError, match="group"):
        decomp.chart("GL4", x)
    with pytest.raises(ValueError, match=r"'x'.*\(N, 3\)"):
        decomp.chart("SL2", x)
    with pytest.raises(ValueError, match=r"'g'.*\(N, 2, 2\) or \(N, 3, 3\)"):
        decomp.polar(np.eye(2))
    with pytest.raises(ValueError, match=r"'g'.*\(N, 3, 3\)"):
        decomp.chart_inv("GL3", np.eye(2)[None])
    with pytest.raises(ValueError, match="empty"):
        decomp.polar(np.zeros((0, 2, 2)))
    with pytest.raises(ValueError, match="empty"):
        decomp.chart("GL2", np.zeros((0, 4)))
    with pytest.raises(TypeError, match="'g'"):
        decomp.polar(np.ones((1, 2, 2), dtype=complex))
    with pytest.raises(TypeError, match="'g'"):
        decomp.polar(None)
    with pytest.raises(ValueError, match=r"'X'.*\(N, 2, 2\)"):
        decomp.vee("GL2", np.zeros((3, 3, 3)))


@pytest.mark.parametrize("fn", [decomp.polar, decomp.haar_weight, lambda g: decomp.chart_inv("GL2", g)])
def test_bad_gl_elements(fn):
    good = np.eye(2)
    with pytest.raises(ValueError, match=r"element 1 .*det <= 0"):
        fn(np.stack([good, np.diag([1.0, -1.0])]))
    with pytest.raises(ValueError, match="det <= 0|singular"):
        fn(np.stack([good, np.zeros((2, 2))]))
    with pytest.raises(ValueError, match="NaN"):
        fn(np.stack([good, np.full((2, 2), np.nan)]))
    with pytest.raises(ValueError, match="NaN"):
        fn(np.stack([good, np.array([[np.inf, 0], [0, 1.0]])]))


def test_bad_special_elements():
    with pytest.raises(ValueError, match="det = 1"):
        decomp.chart_inv("SL2", np.diag([2.0, 1.0])[None])
    with pytest.raises(ValueError, match="det = 1"):
        decomp.chart_inv("SL3", np.diag([1.0, 1.0, 1.0 + 1e-5])[None])
    decomp.chart_inv("SL3", np.diag([1.0, 1.0, 1.0 + 1e-7])[None])   # within 1e-6
    with pytest.raises(ValueError, match="rotation"):
        decomp.chart_inv("SO2", np.array([[[2.0, 0.0], [0.0, 0.5]]]))
    with pytest.raises(ValueError, match="det <= 0"):
        decomp.chart_inv("GL3", np.diag([1.0, 1.0, -1.0])[None])
    with pytest.raises(ValueError, match="singular"):
        decomp.polar(np.diag([1.0, 1.0, 1e-300])[None])


def test_bad_spd_input():
    with pytest.raises(ValueError, match="'P'.*not symmetric"):
        decomp.spd_log(np.array([[[1.0, 0.5], [0.0, 1.0]]]))
    with pytest.raises(ValueError, match="'P'.*not positive definite"):
        decomp.spd_sqrt(np.diag([1.0, -1.0])[None])
    with pytest.raises(ValueError, match="'P'.*not positive definite"):
        decomp.spd_log(np.diag([1.0, 0.0, 2.0])[None])
    with pytest.raises(ValueError, match="'P'.*not positive definite"):
        decomp.spd_inv_sqrt(np.diag([1.0, 1e-30])[None])
    with pytest.raises(ValueError, match="'S'.*overflow"):
        decomp.spd_exp(np.diag([1000.0, 0.0])[None])
    with pytest.raises(ValueError, match="'S'.*NaN"):
        decomp.spd_exp(np.diag([np.nan, 0.0])[None])
    with pytest.raises(ValueError, match="'x'.*NaN"):
        decomp.chart("GL2", np.array([[0.0, np.inf, 0.0, 0.0]]))


def test_bad_sample_args():
    with pytest.raises(ValueError, match="'group'"):
        decomp.sample("SE2", 3, 0)
    with pytest.raises(ValueError, match="'n'"):
        decomp.sample("GL2", 0, 0)
    with pytest.raises(TypeError, match="'n'"):
        decomp.sample("GL2", 2.5, 0)
    with pytest.raises(ValueError, match="'seed'"):
        decomp.sample("GL2", 3, -1)
    with pytest.raises(ValueError, match="'spd_std'"):
        decomp.sample("GL2", 3, 0, spd_std=-0.1)
    with pytest.raises(ValueError, match="'spd_std'"):
        decomp.sample("GL2", 3, 0, spd_std=float("nan"))
    with pytest.raises(ValueError, match="'rotation'"):
        decomp.sample("GL3", 3, 0, rotation="equidistant")
    with pytest.raises(ValueError, match="'rotation'"):
        decomp.sample("GL2", 3, 0, rotation="uniform")
    with pytest.raises(ValueError, match="'rotation'"):
        decomp_torch.sample("GL3", 3, rotation="equidistant")


def test_bad_pairwise_args():
    _, hi = decomp.sample("GL2", 3, seed=1)
    h, _ = decomp.sample("GL2", 3, seed=2)
    with pytest.raises(ValueError, match="'kernel_size'.*odd"):
        decomp.pairwise("GL2", hi, h, 4)
    with pytest.raises(ValueError, match="'kernel_size'.*odd"):
        decomp_torch.pairwise("GL2", torch.from_numpy(hi), torch.from_numpy(h), 4)
    with pytest.raises(ValueError, match="'kernel_size'"):
        decomp.pairwise("GL2", hi, h, 0)
    with pytest.raises(ValueError, match="'group'"):
        decomp.pairwise("GL3", hi, h, 5)
    with pytest.raises(ValueError, match=r"'h_in'.*\(N, 2, 2\)"):
        decomp.pairwise("GL2", hi, h[:, :1], 5)
    with pytest.raises(ValueError, match=r"'h_in'.*\(N, 2, 2\)"):
        decomp_torch.pairwise("GL2", torch.from_numpy(hi), torch.from_numpy(h[:, :1]), 5)
    with pytest.raises(ValueError, match="'h_out_inv'.*empty"):
        decomp.pairwise("GL2", hi[:0], h, 5)
    with pytest.raises(ValueError, match="'h_in' element 1 .*det <= 0"):
        decomp.pairwise("GL2", hi, np.stack([h[0], -np.diag([1.0, -1.0]) @ h[1]]), 5)
    with pytest.raises(ValueError, match="'h_in'.*det = 1"):
        decomp.pairwise("SL2", hi[:1] / np.sqrt(np.linalg.det(hi[:1]))[:, None, None], h, 5)
    with pytest.raises(ValueError, match="'h_out_inv'.*NaN"):
        decomp.pairwise("GL2", np.full((1, 2, 2), np.nan), h, 5)
    with pytest.raises(TypeError, match="'dtype'"):
        decomp.pairwise("GL2", hi, h, 5, dtype=np.int32)
