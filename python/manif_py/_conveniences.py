"""Python-side conveniences over the compiled groups: Euler angles, the ``@``
operator (compose with an element, act on one point or on an (N, dim) array) and
``Rn(n)``. Nothing here runs per element in Python."""

import contextlib

import numpy as np

from . import _core

_GROUP_NAMES = _core.GROUP_NAMES


def _real_array(value, fn, arg):
    """``value`` as a float64 array, or a TypeError naming the argument."""
    try:
        raw = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{fn}: argument '{arg}' must be an array of real numbers ({exc})") from None
    if raw.dtype.kind not in "fiub":
        raise TypeError(f"{fn}: argument '{arg}' must hold real numbers, got dtype {raw.dtype}")
    return raw.astype(np.float64, copy=False)


@contextlib.contextmanager
def unchecked():
    """Skip the per-element input checks of the batch kernels inside the block.

    By default every batch input is checked (finite, unit quaternion or complex
    number within 1e-5, positive Sim(3) scale), which costs more than the cheapest
    kernels (compose, inverse, act) themselves. Inside ``with manif_py.unchecked():``
    inputs are trusted as they are, like scipy's ``check_finite=False``: invalid
    input then gives invalid output instead of a ValueError. Shapes and dtypes
    are still checked. Thread-local: it switches the checks off for the calling
    thread only, and nested or overlapping blocks restore what they found.
    """
    previous = _core.get_validation()
    _core.set_validation(False)
    try:
        yield
    finally:
        _core.set_validation(previous)


def Rn(n):
    """The group R^n for n in 1..6 (``Rn(3) is R3``)."""
    if not isinstance(n, (int, np.integer)) or not 1 <= n <= 6:
        raise ValueError(f"Rn: argument 'n' must be an integer in 1..6, got {n!r}")
    return getattr(_core, f"R{int(n)}")


def _make_matmul(group, batch_ns):
    def __matmul__(self, other):
        if isinstance(other, group):
            return self.compose(other)
        points = _real_array(other, f"{group.__name__}.__matmul__", "points")
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
    angles = _real_array(angles, "SO3.from_euler", "angles")
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


def _extrinsic_angles(R, i, j, k, zero_third):
    """Angles (a, b, c) with R = R_k(c) R_j(b) R_i(a) (axes i, j, k; i == k for
    proper sequences). At gimbal lock one of a, c is free: the third (c) is set to
    0 when ``zero_third``, otherwise the first (a)."""
    proper = i == k
    if proper:
        k2 = 3 - i - j
        eps = 1.0 if (i, j, k2) in ((0, 1, 2), (1, 2, 0), (2, 0, 1)) else -1.0
        b = np.arctan2(np.hypot(R[i, j], R[i, k2]), R[i, i])
        if np.sin(b) > 1e-9:
            return np.array([np.arctan2(R[i, j], eps * R[i, k2]), b, np.arctan2(R[j, i], -eps * R[k2, i])])
        cb = np.cos(b)
        free = np.arctan2(eps * R[k2, j], R[j, j])
        if zero_third:
            return np.array([np.arctan2(eps * cb * R[k2, j], R[j, j]), b, 0.0])
        return np.array([0.0, b, free])
    eps = 1.0 if (i, j, k) in ((0, 1, 2), (1, 2, 0), (2, 0, 1)) else -1.0
    b = np.arctan2(-eps * R[k, i], np.hypot(R[i, i], R[j, i]))
    if np.cos(b) > 1e-9:
        return np.array([np.arctan2(eps * R[k, j], R[k, k]), b, np.arctan2(eps * R[j, i], R[i, i])])
    if zero_third:
        return np.array([np.arctan2(np.sin(b) * R[i, j], R[j, j]), b, 0.0])
    return np.array([0.0, b, np.arctan2(-eps * R[i, j], R[j, j])])


def _so3_as_euler(self, seq):
    """Euler angles (radians) for ``seq`` (see from_euler), as scipy returns them:
    the middle angle lies in [0, pi] for proper sequences (e.g. 'zxz') and in
    [-pi/2, pi/2] for Tait-Bryan ones; at gimbal lock the third angle is 0."""
    axes, extrinsic = _check_seq(seq)
    R = self.rotation()
    if extrinsic:
        i, j, k = (_AXES[a] for a in axes)
        return _extrinsic_angles(R, i, j, k, zero_third=True)
    # Intrinsic ABC with angles (a, b, c) is extrinsic CBA with angles (c, b, a).
    i, j, k = (_AXES[a] for a in axes[::-1])
    return _extrinsic_angles(R, i, j, k, zero_third=False)[::-1].copy()


_core.SO3.from_euler = classmethod(_so3_from_euler)
_core.SO3.as_euler = _so3_as_euler
