"""GL+(n) and SL(n) through the polar (Cartan) decomposition, in C++.

The numerical core of "Lie Group Decompositions for Equivariant Neural Networks"
(Mironenco & Forre, ICLR 2024): numpy arrays in, numpy arrays out, every
function batched with the element axis first, float32 or float64 in -> the
same dtype out (other real dtypes are read as float64). Loops run in C++ with
the GIL released, across threads for large batches. The torch twin of
:func:`sample` and :func:`pairwise` (any device) is :mod:`manif_py.decomp_torch`.

Groups
------
``group`` is one of "SO2", "SL2", "GL2" (2x2) and "SL3", "GL3" (3x3). GL means
GL+(n) (det > 0). Lie algebra bases are orthonormal under <A, B> = tr(A^T B)::

    GL2 (d=4): E11, (E12+E21)/sqrt2, E22, (E21-E12)/sqrt2
    SL2 (d=3): (E12+E21)/sqrt2, (E21-E12)/sqrt2, diag(1,-1)/sqrt2
    SO2 (d=1): (E21-E12)/sqrt2
    GL3 (d=9): E11, E22, E33, (E12+E21)/sqrt2, (E13+E31)/sqrt2, (E23+E32)/sqrt2,
               (E32-E23)/sqrt2, (E13-E31)/sqrt2, (E21-E12)/sqrt2
    SL3 (d=8): diag(1,-1,0)/sqrt2, diag(1,1,-2)/sqrt6, (E12+E21)/sqrt2,
               (E13+E31)/sqrt2, (E23+E32)/sqrt2, (E32-E23)/sqrt2,
               (E13-E31)/sqrt2, (E21-E12)/sqrt2

The symmetric elements give the "p-coordinates", the skew ones the
"k-coordinates" (for n = 3 the last three are sqrt2 times the rotation vector).

Errors
------
Wrong shapes, empty batches, NaN / inf, det <= 0, numerically singular
matrices, det != 1 for SL inputs (|det - 1| > 1e-6), non-symmetric or
non-positive-definite SPD inputs, unknown group names and even kernel sizes
raise ValueError (TypeError for non-numeric input) naming the argument, the
first bad element and the expected shape.
"""
from __future__ import annotations

from . import _decomp

__all__ = [
    "polar", "spd_exp", "spd_log", "spd_sqrt", "spd_inv_sqrt", "chart", "chart_inv", "hat", "vee",
    "sample", "haar_weight", "pairwise", "warp_affine", "warp_homography",
]


def polar(g):
    """Left polar (Cartan) decomposition g = P R.

    g (N, n, n), det > 0 -> (P, R), each (N, n, n): P = (g g^T)^(1/2) symmetric
    positive definite, R in SO(n). n = 2: closed form, theta = atan2(g21 - g12,
    g11 + g22), R = rot(theta), P = g R^T. n = 3: Jacobi SVD g = U S V^T (accurate
    for nearly singular g), P = U S U^T, R = U V^T.
    """
    return _decomp.polar(g)


def spd_exp(S):
    """Matrix exponential of symmetric matrices: S (N, n, n) -> (N, n, n) SPD."""
    return _decomp.spd_exp(S)


def spd_log(P):
    """Principal matrix logarithm of SPD matrices: P (N, n, n) -> (N, n, n) symmetric."""
    return _decomp.spd_log(P)


def spd_sqrt(P):
    """SPD square root: P (N, n, n) -> (N, n, n) SPD with result @ result = P."""
    return _decomp.spd_sqrt(P)


def spd_inv_sqrt(P):
    """Inverse SPD square root: P (N, n, n) -> P^(-1/2), (N, n, n)."""
    return _decomp.spd_inv_sqrt(P)


def chart(group, x, jacobians=False):
    """The global chart xi(x) = expm(X_p) expm(X_k), X = hat(group, x).

    x (N, d) -> g (N, n, n); X_p, X_k are the symmetric and skew parts of X.
    With jacobians=True returns (g, J), J (N, n*n, d) = d vec_rowmajor(g) / dx.
    """
    return _decomp.chart(group, x, jacobians)


def chart_inv(group, g, jacobians=False):
    """The inverse chart xi^-1(g) = vee(1/2 logm(g g^T) + log R), R = polar(g)[1].

    g (N, n, n) in the group -> x (N, d). With jacobians=True returns (x, J),
    J (N, d, n*n) = dx / d vec_rowmajor(g) (derivatives along all n*n entries,
    for SL too). SL inputs need |det g - 1| <= 1e-6, SO2 inputs g g^T = I.
    The rotation angle is taken in (-pi, pi], so x jumps where the angle wraps.
    """
    return _decomp.chart_inv(group, g, jacobians)


def hat(group, x):
    """x (N, d) -> X = sum_i x_i E_i, (N, n, n), in the group's basis (see module doc)."""
    return _decomp.hat(group, x)


def vee(group, X):
    """X (N, n, n) -> x (N, d), x_i = tr(E_i^T X): the orthogonal projection onto the algebra."""
    return _decomp.vee(group, X)


def sample(group, n, seed, spd_std=0.1, rotation="haar", offset=0.0):
    """n random group elements and their exact inverses, float64.

    g = S^(1/2) R with S = expm(hat_p(v)), v ~ N(0, spd_std^2 I) in the
    p-coordinates (traceless for SL, so det g = 1; none for "SO2"), R uniform
    (Haar) in SO(n) (SO(3) from a normalised 4-D Gaussian quaternion) or, for
    2x2 groups with rotation="equidistant", R = rot(offset + 2 pi i / n).
    spd_std = 0 gives pure rotations. g_inv = R^T S^(-1/2) from the factors.
    Deterministic for a given seed (integer in [0, 2**64)), independent of
    the thread count. Returns (g, g_inv), each (n, k, k).
    """
    return _decomp.sample(group, n, seed, spd_std, rotation, offset)


def haar_weight(g):
    """g (N, n, n), det > 0 -> (N,) = 1 / |det g|.

    The left Haar measure of the affine group R^n x| H is dy dmu_H(h) / |det h|
    (h rescales translations), so a Monte Carlo sum of a group convolution over
    input samples h~_j drawn for mu_H carries the factor 1 / |det h~_j|. It is 1
    on SL(n) and SO(n).
    """
    return _decomp.haar_weight(g)


def pairwise(group, h_out_inv, h_in, kernel_size, dtype=None):
    """The kernel-network inputs of a group convolution, all pairs in one call.

    group: "SO2", "SL2" or "GL2". h_out_inv (M, 2, 2): the inverses h_i^-1 of
    the output samples; h_in (K, 2, 2): the input samples h~_j; kernel_size k,
    odd. The spatial grid y holds the k*k points of linspace(-1, 1, k) x
    linspace(-1, 1, k), index row * k + col, y = (x = column coordinate,
    y = row coordinate).

    Returns (inputs, mask, weights):
      inputs (M, K, k*k, 2 + c): [h_i^-1 y (2 values), p-coordinates of
        xi^-1(h_i^-1 h~_j), cos theta, sin theta], theta the angle of the polar
        rotation of h_i^-1 h~_j (no jump at +-pi); c = 2 (SO2), 4 (SL2), 5 (GL2).
      mask (M, k*k) bool: h_i^-1 y inside [-1, 1]^2 (inclusive, tolerance 1e-6).
      weights (K,): 1 / |det h~_j| (see :func:`haar_weight`).
    ``dtype`` (float32 or float64; default that of h_out_inv) is the dtype of
    inputs and weights; the arithmetic is float64 throughout.
    """
    return _decomp.pairwise(group, h_out_inv, h_in, kernel_size, dtype)


def warp_affine(images, theta, out_size=None):
    """Bilinear affine warp with zero padding.

    images (N, C, H, W) or (N, H, W), float32 / float64; theta (N, 2, 3) or
    (2, 3) (broadcast over N) maps normalised output coordinates (x, y, 1) in
    [-1, 1] to normalised input coordinates; out_size (H_out, W_out), default
    (H, W). Equals torch.nn.functional.grid_sample(images,
    affine_grid(theta, (N, C, H_out, W_out), align_corners=False),
    mode="bilinear", padding_mode="zeros", align_corners=False).
    Returns (N, C, H_out, W_out) or (N, H_out, W_out), the images' dtype.
    """
    return _decomp.warp_affine(images, theta, out_size)


def warp_homography(images, H, out_size=None):
    """Bilinear projective warp with zero padding.

    As :func:`warp_affine` with H (N, 3, 3) or (3, 3): normalised output
    (x, y, 1) -> H (x, y, 1) -> divide by the third coordinate -> normalised
    input coordinates. Points whose third coordinate is 0 read zero.
    """
    return _decomp.warp_homography(images, H, out_size)
