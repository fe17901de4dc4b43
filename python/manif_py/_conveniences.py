"""Python-side conveniences over the compiled groups: Euler angles, the ``@``
operator (compose with an element, act on one point or on an (N, dim) array) and
``Rn(n)``. Nothing here runs per element in Python."""

import numpy as np

from . import _core

_GROUP_NAMES = ("SO2", "SE2", "SO3", "SE3", "SE23", "SGal3", "Sim3", "R1", "R2", "R3", "R4", "R5", "R6")


def Rn(n):
    """The group R^n for n in 1..6 (``Rn(3) is R3``)."""
    if not isinstance(n, (int, np.integer)) or not 1 <= n <= 6:
        raise ValueError(f"Rn: argument 'n' must be an integer in 1..6, got {n!r}")
    return getattr(_core, f"R{int(n)}")


def _make_matmul(group, batch_ns):
    def __matmul__(self, other):
        if isinstance(other, group):
            return self.compose(other)
        points = np.asarray(other, dtype=np.float64)
        if points.ndim == 1:
            return self.act(points)
        return batch_ns.act(self.coeffs(), points)

    __matmul__.__doc__ = (
        f"X @ Y composes two {group.__name__} elements; X @ p acts on a point (dim,) or on points (N, dim)."
    )
    return __matmul__


for _name in _GROUP_NAMES:
    _g = getattr(_core, _name)
    _g.__matmul__ = _make_matmul(_g, getattr(_core.batch, _name))


_AXES = {"x": 0, "y": 1, "z": 2}


def _check_seq(seq):
    if not isinstance(seq, str) or len(seq) != 3 or not (seq.islower() or seq.isupper()):
        raise ValueError(
            "argument 'seq' must be 3 axis letters, all lower case (extrinsic, e.g. 'xyz') "
            f"or all upper case (intrinsic, e.g. 'ZYX'), got {seq!r}"
        )
    axes = seq.lower()
    if any(a not in _AXES for a in axes) or axes[0] == axes[1] or axes[1] == axes[2]:
        raise ValueError(f"argument 'seq' must use axes x, y, z with no two consecutive equal, got {seq!r}")
    return axes, seq.islower()


def _so3_from_euler(cls, seq, angles):
    """Rotation from three Euler angles (radians).

    ``seq``: lower case = extrinsic (fixed axes, applied left to right),
    upper case = intrinsic (moving axes), as in scipy.spatial.transform.Rotation.
    """
    axes, extrinsic = _check_seq(seq)
    angles = np.asarray(angles, dtype=np.float64)
    if angles.shape != (3,):
        raise ValueError(f"SO3.from_euler: argument 'angles' must have shape (3,), got {angles.shape}")
    if not np.all(np.isfinite(angles)):
        raise ValueError("SO3.from_euler: argument 'angles' contains NaN or inf")
    elementary = []
    for axis, angle in zip(axes, angles):
        v = np.zeros(3)
        v[_AXES[axis]] = angle
        elementary.append(_core.SO3.Exp(v))
    a, b, c = elementary
    # Extrinsic: R = R3 R2 R1 (first rotation applied first, about fixed axes);
    # intrinsic: R = R1 R2 R3.
    return c * b * a if extrinsic else a * b * c


def _so3_as_euler(self, seq):
    """Euler angles (radians) for ``seq`` (see from_euler). The middle angle lies in
    [0, pi] for proper sequences (e.g. 'zxz') and [-pi/2, pi/2] for Tait-Bryan ones;
    at gimbal lock the third angle is set to 0."""
    axes, extrinsic = _check_seq(seq)
    if not extrinsic:
        # Intrinsic ABC equals extrinsic CBA with the angles reversed.
        return _so3_as_euler(self, axes[::-1])[::-1]
    i, j, k = (_AXES[a] for a in axes)
    R = self.rotation()
    # Extrinsic i, j, k means R = R_k(c) R_j(b) R_i(a); work on R^T = R_i(-a) R_j(-b) R_k(-c)
    # is avoided by solving directly on R with the generic two-case formulas.
    proper = i == k
    if proper:
        k2 = 3 - i - j
        sign = 1.0 if (i, j, k2) in ((0, 1, 2), (1, 2, 0), (2, 0, 1)) else -1.0
        # R = R_i(c) R_j(b) R_i(a)
        b = np.arccos(np.clip(R[i, i], -1.0, 1.0))
        if abs(np.sin(b)) > 1e-9:
            a = np.arctan2(R[i, j], -sign * R[i, k2])
            c = np.arctan2(R[j, i], sign * R[k2, i])
        else:
            a = 0.0
            c = np.arctan2(sign * -R[j, k2] if b < 1 else sign * R[j, k2], R[j, j])
            c = np.arctan2(-sign * R[j, k2], R[j, j]) if b < 1 else np.arctan2(sign * R[j, k2], R[j, j])
        return np.array([a, b, c])
    sign = 1.0 if (i, j, k) in ((0, 1, 2), (1, 2, 0), (2, 0, 1)) else -1.0
    # R = R_k(c) R_j(b) R_i(a)
    b = np.arcsin(np.clip(-sign * R[k, i], -1.0, 1.0))
    if abs(np.cos(b)) > 1e-9:
        a = np.arctan2(sign * R[k, j], R[k, k])
        c = np.arctan2(sign * R[j, i], R[i, i])
    else:
        a = 0.0
        c = np.arctan2(-sign * R[i, j], R[j, j])
    return np.array([a, b, c])


_core.SO3.from_euler = classmethod(_so3_from_euler)
_core.SO3.as_euler = _so3_as_euler
