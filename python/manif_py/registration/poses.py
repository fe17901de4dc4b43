"""Conversions between the three pose forms the pipeline meets.

SE(3) elements as the core stores them, (B, 7) = (t, q_xyzw); rotation and
translation pairs (R (B, 3, 3), t (B, 3)) as the network returns them; and 4x4
homogeneous matrices as users read and write them.
"""

from __future__ import annotations

import numpy as np

from .. import SE3, batch


def nearest_rotation(R):
    """The rotation matrices (B, 3, 3) closest in Frobenius norm to R (B, 3, 3), by SVD.

    The network's rotations come from float32 Procrustes: orthonormal to about 1e-7,
    not within the core's 1e-6 check every time, so they are projected first."""
    U, _, Vt = np.linalg.svd(R)
    d = np.sign(np.linalg.det(U @ Vt))
    d[d == 0] = 1.0
    return U @ (np.concatenate([np.ones((len(d), 2)), d[:, None]], axis=1)[:, :, None] * Vt)


def pose_from_rt(R, t):
    """(R (B,3,3), t (B,3)) -> SE3 coefficients (B, 7) = (t, q_xyzw), float64, by the core's
    SE3.from_rt (no scipy)."""
    R = np.asarray(R, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if R.ndim != 3 or R.shape[1:] != (3, 3):
        raise ValueError(f"pose_from_rt: argument 'R' must have shape (B, 3, 3), got {R.shape}")
    if t.shape != (len(R), 3):
        raise ValueError(f"pose_from_rt: argument 't' must have shape ({len(R)}, 3), got {t.shape}")
    if not (np.isfinite(R).all() and np.isfinite(t).all()):
        raise ValueError("pose_from_rt: arguments 'R' and 't' must be finite")
    R = nearest_rotation(R)
    out = np.empty((len(R), 7))
    for i in range(len(R)):  # B is a batch of hypotheses (tens): the per-call cost is a few us
        out[i] = SE3.from_rt(R[i], t[i]).coeffs()
    return out


def pose_from_matrix(T):
    """4x4 matrices (B, 4, 4) -> SE3 coefficients (B, 7)."""
    T = np.asarray(T, dtype=np.float64)
    return pose_from_rt(T[..., :3, :3], T[..., :3, 3])


def matrix_from_pose(H):
    """SE3 coefficients (B, 7) -> 4x4 matrices (B, 4, 4)."""
    return batch.SE3.matrix(np.ascontiguousarray(H, dtype=np.float64))


def rt_from_pose(H):
    """SE3 coefficients (B, 7) -> (R (B,3,3), t (B,3))."""
    M = matrix_from_pose(H)
    return M[:, :3, :3], M[:, :3, 3]


def compose(A, B):
    """A * B for SE3 coefficients (B, 7)."""
    return batch.SE3.compose(np.ascontiguousarray(A, dtype=np.float64), np.ascontiguousarray(B, dtype=np.float64))


def identity(n):
    return np.tile(np.array([0, 0, 0, 0, 0, 0, 1.0]), (n, 1))

