"""GL+(n) / SL(n) sampling and group-convolution kernel inputs in vectorised torch.

The torch twin of :mod:`manif_py.decomp` for the two calls a group convolution
needs on every forward pass, :func:`sample` and :func:`pairwise`. Tensors in,
tensors out, on any device (no host synchronisation, no Python loops over
elements); on CPU the compiled ``manif_py.decomp`` computes the same numbers
faster. Also the reference the C++ results are tested and benchmarked against.

Conventions (the same as ``manif_py.decomp``)
---------------------------------------------
Groups are named "SO2", "SL2", "GL2" (n = 2) and "SL3", "GL3" (n = 3).
The Lie algebra bases are those of ``manif_py.decomp`` (its docstring lists them).

The symmetric (p) basis elements are the "p-coordinates"; the skew ones the
"k-coordinates". The chart is xi(x) = expm(X_p) expm(X_k) with X = hat(x), and
xi^-1(g) = vee(1/2 logm(g g^T) + log R) where g = P R is the left polar
decomposition (P symmetric positive definite, R a rotation).
"""
from __future__ import annotations

import math

import torch

__all__ = ["GROUPS", "basis", "hat", "vee", "sample", "spd_sample", "pairwise", "haar_weight", "kernel_grid"]

_S2 = math.sqrt(2.0)
_S6 = math.sqrt(6.0)

# group -> (matrix size n, p-dimension, k-dimension)
GROUPS = {
    "SO2": (2, 0, 1),
    "SL2": (2, 2, 1),
    "GL2": (2, 3, 1),
    "SL3": (3, 5, 3),
    "GL3": (3, 6, 3),
}


def _check_group(group) -> tuple[int, int, int]:
    if group not in GROUPS:
        raise ValueError(f"argument 'group' must be one of {sorted(GROUPS)}, got {group!r}")
    return GROUPS[group]


def _basis_rows(group: str) -> list[list[list[float]]]:
    e = lambda i, j, n: [[1.0 if (r, c) == (i, j) else 0.0 for c in range(n)] for r in range(n)]
    add = lambda a, b, s: [[s * (x + y) for x, y in zip(ra, rb)] for ra, rb in zip(a, b)]
    if group in ("SO2", "SL2", "GL2"):
        sym12 = add(e(0, 1, 2), e(1, 0, 2), 1 / _S2)
        skew = add(e(1, 0, 2), [[-v for v in r] for r in e(0, 1, 2)], 1 / _S2)
        if group == "SO2":
            return [skew]
        if group == "SL2":
            return [sym12, skew, [[1 / _S2, 0.0], [0.0, -1 / _S2]]]
        return [e(0, 0, 2), sym12, e(1, 1, 2), skew]
    neg = lambda a: [[-v for v in r] for r in a]
    off = [add(e(0, 1, 3), e(1, 0, 3), 1 / _S2), add(e(0, 2, 3), e(2, 0, 3), 1 / _S2), add(e(1, 2, 3), e(2, 1, 3), 1 / _S2)]
    skew = [add(e(2, 1, 3), neg(e(1, 2, 3)), 1 / _S2), add(e(0, 2, 3), neg(e(2, 0, 3)), 1 / _S2), add(e(1, 0, 3), neg(e(0, 1, 3)), 1 / _S2)]
    if group == "GL3":
        return [e(0, 0, 3), e(1, 1, 3), e(2, 2, 3)] + off + skew
    d1 = [[1 / _S2, 0, 0], [0, -1 / _S2, 0], [0, 0, 0]]
    d2 = [[1 / _S6, 0, 0], [0, 1 / _S6, 0], [0, 0, -2 / _S6]]
    return [d1, d2] + off + skew


def basis(group: str, dtype=torch.float64, device=None) -> torch.Tensor:
    """The orthonormal Lie algebra basis of ``group`` as a (d, n, n) tensor."""
    _check_group(group)
    return torch.tensor(_basis_rows(group), dtype=dtype, device=device)


def _p_index(group: str) -> list[int]:
    """Positions of the symmetric basis elements in the basis order."""
    return {"SO2": [], "SL2": [0, 2], "GL2": [0, 1, 2], "SL3": list(range(5)), "GL3": list(range(6))}[group]


def _check_float(name: str, a) -> None:
    """A float tensor: complex, integer and bool tensors are refused, not cast."""
    if not isinstance(a, torch.Tensor):
        raise TypeError(f"argument '{name}' must be a torch.Tensor, got {type(a).__name__}")
    if not a.is_floating_point():
        raise TypeError(f"argument '{name}' must be a float32 or float64 tensor, got {a.dtype}")


def hat(group: str, x: torch.Tensor) -> torch.Tensor:
    """(N, d) coordinates -> (N, n, n) Lie algebra matrices."""
    _check_float("x", x)
    B = basis(group, x.dtype, x.device)
    return torch.einsum("...d,dij->...ij", x, B)


def vee(group: str, X: torch.Tensor) -> torch.Tensor:
    """(N, n, n) matrices -> (N, d) coordinates (orthogonal projection onto the algebra)."""
    _check_float("X", X)
    B = basis(group, X.dtype, X.device)
    return torch.einsum("...ij,dij->...d", X, B)


def haar_weight(g: torch.Tensor) -> torch.Tensor:
    """(N, n, n) -> (N,) = 1 / |det g|.

    The left Haar measure of the affine group R^n x| H is dy dmu_H(h) / |det h|
    (translations are rescaled by h), so a Monte Carlo sum over input samples
    h~_j that approximate mu_H carries the factor 1 / |det h~_j| (Mironenco &
    Forre 2024, the group convolution); for SO2 and SL2 it is 1.
    """
    _check_float("g", g)
    return 1.0 / torch.linalg.det(g).abs()


def _rot2(theta: torch.Tensor) -> torch.Tensor:
    c, s = torch.cos(theta), torch.sin(theta)
    return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)


def _quat_to_rot(q: torch.Tensor) -> torch.Tensor:
    x, y, z, w = q.unbind(-1)
    return torch.stack([
        torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        torch.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        torch.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


def _sym2_exp(a, b, d, t: float):
    """exp(t S) for S = [[a, b], [b, d]], as its three entries (closed form)."""
    m = 0.5 * (a + d)
    h = 0.5 * (a - d)
    r = torch.hypot(h, b)
    tr = t * r
    # sinh(tr)/r without 0/0: the series is t (1 + (tr)^2/6 + ...).
    small = tr.abs() < 1e-4
    safe_r = torch.where(small, torch.ones_like(r), r)
    shr = torch.where(small, t * (1 + tr * tr / 6), torch.sinh(tr) / safe_r)
    em = torch.exp(t * m)
    ch = torch.cosh(tr)
    return em * (ch + shr * h), em * shr * b, em * (ch - shr * h)


def sample(group: str, n: int, generator: torch.Generator | None = None, spd_std: float = 0.1,
           rotation: str = "haar", offset: float = 0.0, dtype=torch.float64, device=None):
    """Draws n group elements and their exact inverses.

    g = S^(1/2) R with S = expm(hat_p(v)), v ~ N(0, spd_std^2 I) in p-coordinates
    (traceless for SL; no SPD factor for "SO2") and R Haar-uniform in SO(n)
    (rotation="haar"; SO(3) from a uniform unit quaternion) or, for n = 2,
    rotation="equidistant": angles offset + 2 pi i / n, i = 0..n-1.
    g_inv = R^T S^(-1/2) is computed from the factors.

    Returns (g, g_inv), each (n, k, k) with k the matrix size. Random numbers
    come from ``generator`` (a torch.Generator on ``device``); they need not
    match the C++ sampler's.
    """
    k, p, _ = _check_group(group)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"argument 'n' must be a positive integer, got {n!r}")
    if not (math.isfinite(spd_std) and spd_std >= 0):
        raise ValueError(f"argument 'spd_std' must be a finite number >= 0, got {spd_std!r}")
    if not math.isfinite(offset):
        raise ValueError(f"argument 'offset' must be finite, got {offset!r}")
    if rotation not in ("haar", "equidistant"):
        raise ValueError(f"argument 'rotation' must be 'haar' or 'equidistant', got {rotation!r}")
    if rotation == "equidistant" and k != 2:
        raise ValueError(f"argument 'rotation'='equidistant' needs a 2x2 group, got {group!r}")
    kw = dict(dtype=dtype, device=device)

    if k == 2:
        if rotation == "haar":
            theta = (2 * math.pi) * torch.rand(n, generator=generator, **kw) - math.pi
        else:
            theta = offset + (2 * math.pi / n) * torch.arange(n, **kw)
        R = _rot2(theta)
    else:
        q = torch.randn(n, 4, generator=generator, **kw)
        q = q / q.norm(dim=-1, keepdim=True)
        R = _quat_to_rot(q)
    Rt = R.transpose(-1, -2)
    if p == 0:
        return R, Rt

    half, inv_half = spd_sample(group, n, generator, spd_std, dtype, device)
    return half @ R, Rt @ inv_half


def spd_sample(group: str, n: int, generator: torch.Generator | None = None, spd_std: float = 0.1,
               dtype=torch.float64, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The SPD factors of :func:`sample` alone: (S^(1/2), S^(-1/2)), each (n, k, k), with
    S = expm(hat_p(v)), v ~ N(0, spd_std^2 I) in p-coordinates (traceless for SL). Groups without
    an SPD factor ("SO2") give identities."""
    k, p, _ = _check_group(group)
    kw = dict(dtype=dtype, device=device)
    if p == 0:
        eye = torch.eye(k, **kw).expand(n, k, k).clone()
        return eye, eye.clone()
    v = spd_std * torch.randn(n, p, generator=generator, **kw)
    B = basis(group, dtype, device)[_p_index(group)]
    Xp = torch.einsum("np,pij->nij", v, B)
    if k == 2:
        a, b, d = Xp[:, 0, 0], Xp[:, 0, 1], Xp[:, 1, 1]
        h11, h12, h22 = _sym2_exp(a, b, d, 0.5)
        i11, i12, i22 = _sym2_exp(a, b, d, -0.5)
        half = torch.stack([torch.stack([h11, h12], -1), torch.stack([h12, h22], -1)], -2)
        inv_half = torch.stack([torch.stack([i11, i12], -1), torch.stack([i12, i22], -1)], -2)
    else:
        half = torch.linalg.matrix_exp(0.5 * Xp)
        inv_half = torch.linalg.matrix_exp(-0.5 * Xp)
    return half, inv_half


def kernel_grid(kernel_size: int, dtype=torch.float64, device=None) -> torch.Tensor:
    """The k x k kernel grid y as (k*k, 2): index row*k + col, y = (x = col coord, y = row coord),
    coordinates linspace(-1, 1, k)."""
    t = torch.linspace(-1.0, 1.0, kernel_size, dtype=dtype, device=device)
    yy, xx = torch.meshgrid(t, t, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], -1)


def _check_batch2(name: str, a) -> None:
    if not isinstance(a, torch.Tensor):
        raise TypeError(f"argument '{name}' must be a torch.Tensor of shape (N, 2, 2), got {type(a).__name__}")
    if a.ndim != 3 or a.shape[1:] != (2, 2):
        raise ValueError(f"argument '{name}' must have shape (N, 2, 2), got {tuple(a.shape)}")
    if a.shape[0] == 0:
        raise ValueError(f"argument '{name}' must have shape (N, 2, 2) with N >= 1, got an empty batch")
    if not a.is_floating_point():
        raise TypeError(f"argument '{name}' must be float32 or float64, got {a.dtype}")


def pairwise(group: str, h_out_inv: torch.Tensor, h_in: torch.Tensor, kernel_size: int, dtype=None):
    """The kernel-network inputs of a group convolution, all pairs at once.

    h_out_inv (M, 2, 2): inverses h_i^-1 of the output samples; h_in (K, 2, 2): the
    input samples h~_j; kernel_size k odd. The grid y is :func:`kernel_grid`.

    Returns (inputs, mask, weights):
      inputs (M, K, k*k, 2 + c): [h_i^-1 y, p-coordinates of xi^-1(h_i^-1 h~_j),
        cos theta, sin theta] with theta the rotation angle of h_i^-1 h~_j's polar
        factor; c = 2 (SO2), 4 (SL2), 5 (GL2).
      mask (M, k*k) bool: h_i^-1 y inside [-1, 1]^2 (inclusive, tolerance 1e-6).
      weights (K,): 1 / |det h~_j|.
    ``dtype`` (default: the inputs' dtype) is the dtype of inputs and weights.
    Does not validate determinants (no host synchronisation); the C++ version does.
    """
    k2, p, _ = _check_group(group)
    if k2 != 2:
        raise ValueError(f"argument 'group' must be a 2x2 group (SO2, SL2, GL2) for pairwise, got {group!r}")
    _check_batch2("h_out_inv", h_out_inv)
    _check_batch2("h_in", h_in)
    if not isinstance(kernel_size, int) or isinstance(kernel_size, bool) or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"argument 'kernel_size' must be an odd positive integer, got {kernel_size!r}")
    out_dtype = dtype if dtype is not None else h_out_inv.dtype
    work = torch.promote_types(h_out_inv.dtype, h_in.dtype)
    A = h_out_inv.to(work)
    Bm = h_in.to(device=A.device, dtype=work)
    M, K, kk = A.shape[0], Bm.shape[0], kernel_size * kernel_size

    y = kernel_grid(kernel_size, work, A.device)                      # (kk, 2)
    pts = torch.einsum("mij,yj->myi", A, y)                            # (M, kk, 2)
    mask = (pts.abs() <= 1.0 + 1e-6).all(-1)

    g = torch.einsum("mij,kjl->mkil", A, Bm)                           # (M, K, 2, 2)
    g11, g12, g21, g22 = g[..., 0, 0], g[..., 0, 1], g[..., 1, 0], g[..., 1, 1]
    theta = torch.atan2(g21 - g12, g11 + g22)
    feats = []
    if p > 0:
        # 1/2 logm(C), C = g g^T = [[a, b], [b, d]]: (log det C)/4 I plus
        # atanh(r/m)/(2 r) times the traceless part, stable as r -> 0.
        a = g11 * g11 + g12 * g12
        b = g11 * g21 + g12 * g22
        d = g21 * g21 + g22 * g22
        m = 0.5 * (a + d)
        h = 0.5 * (a - d)
        r = torch.hypot(h, b)
        q = r / m
        small = q < 1e-4
        safe_r = torch.where(small, torch.ones_like(r), r)
        f = torch.where(small, (1 + q * q / 3) / m, torch.atanh(torch.where(small, torch.zeros_like(q), q)) / safe_r)
        half_log_det = 0.5 * torch.log(g11 * g22 - g12 * g21)         # 1/4 log det C
        L11 = half_log_det + 0.5 * f * h
        L22 = half_log_det - 0.5 * f * h
        L12 = 0.5 * f * b
        if group == "GL2":
            feats += [L11, _S2 * L12, L22]
        else:
            feats += [_S2 * L12, (L11 - L22) / _S2]
    feats += [torch.cos(theta), torch.sin(theta)]
    chart = torch.stack(feats, -1)                                     # (M, K, c)

    c = chart.shape[-1]
    inputs = torch.cat([pts[:, None, :, :].expand(M, K, kk, 2),
                        chart[:, :, None, :].expand(M, K, kk, c)], -1).to(out_dtype)
    weights = (1.0 / torch.linalg.det(Bm).abs()).to(out_dtype)
    return inputs, mask, weights
