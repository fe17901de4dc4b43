"""Conversions between the three pose forms the pipeline meets.

SE(3) elements as the core stores them, (B, 7) = (t, q_xyzw); rotation and
translation pairs (R (B, 3, 3), t (B, 3)) as the network returns them; and 4x4
homogeneous matrices as users read and write them.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from .. import batch


def pose_from_rt(R, t):
    """(R (B,3,3), t (B,3)) -> SE3 coefficients (B, 7), float64."""
    R = np.asarray(R, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    q = Rotation.from_matrix(R).as_quat()  # (x, y, z, w), the core's order
    return np.concatenate([t, q], axis=-1)


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

