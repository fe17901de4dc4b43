"""Argument handling shared by the estimation API: group classes <-> kind ids,
information matrices in their accepted forms, robust loss specifications.
Everything here runs once per call (or per batch), never per factor."""

import numbers

import numpy as np

from .. import _core, _estimation

KIND_NAMES = tuple(_estimation.KIND_NAMES)
KIND_OF_NAME = {name: i for i, name in enumerate(KIND_NAMES)}
GROUP_OF_KIND = tuple(getattr(_core, name) for name in KIND_NAMES)

# Robust loss ids of the extension, and the default thresholds (95% asymptotic
# efficiency on Gaussian residuals, as in GTSAM / Ceres).
LOSS_IDS = {"huber": 1, "cauchy": 2}
DEFAULT_K = {"huber": 1.345, "cauchy": 2.3849}


def kind_of_group(group, fn="FactorGraph"):
    """Kind id of a group class or element (SO2, SE2, SO3, SE3, R1..R6, SE23, SGal3, Sim3)."""
    cls = group if isinstance(group, type) else type(group)
    kind = KIND_OF_NAME.get(getattr(cls, "__name__", None))
    if kind is None or GROUP_OF_KIND[kind] is not cls:
        supported = ", ".join(KIND_NAMES)
        raise TypeError(f"{fn}: variables must be one of {supported}; got {cls.__name__}")
    return kind


_DOF = tuple(_estimation.kind_dof(k) for k in range(len(KIND_NAMES)))
_REP = tuple(_estimation.kind_rep(k) for k in range(len(KIND_NAMES)))


def dof_of_kind(kind):
    return _DOF[kind]


def rep_of_kind(kind):
    return _REP[kind]


def as_rows(values, kind, fn, arg):
    """Storage rows (N, rep) from an array or from a sequence of group elements."""
    cls = GROUP_OF_KIND[kind]
    if isinstance(values, cls):
        return values.coeffs()[None, :]
    if isinstance(values, (list, tuple)) and values and hasattr(values[0], "coeffs"):
        bad = [i for i, v in enumerate(values) if not isinstance(v, cls)]
        if bad:
            got = type(values[bad[0]]).__name__
            raise TypeError(f"{fn}: argument '{arg}' item {bad[0]} is {got}, expected {cls.__name__}")
        return np.stack([v.coeffs() for v in values])
    arr = np.asarray(values, dtype=np.float64)
    rep = rep_of_kind(kind)
    if arr.ndim == 1 and arr.shape[0] == rep:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != rep:
        raise ValueError(f"{fn}: argument '{arg}' must have shape (N, {rep}) ({cls.__name__} storage), got {arr.shape}")
    return np.ascontiguousarray(arr)


def information_matrix(information, dim, fn, n=None):
    """An information argument as (dim, dim), or (n, dim, dim) for a batch.

    Accepted: None (identity), a positive scalar (s * I), a vector (dim,) (its
    diagonal), a matrix (dim, dim) and, for batches, an array (n, dim, dim).
    Validity (symmetric positive definite) is checked by the extension, which
    names the offending factor.
    """
    if information is None:
        return np.eye(dim)
    if isinstance(information, numbers.Real):
        return float(information) * np.eye(dim)
    arr = np.asarray(information, dtype=np.float64)
    if arr.ndim == 1 and arr.shape[0] == dim:
        return np.diag(arr)
    if arr.shape == (dim, dim):
        return arr
    if n is not None and arr.shape == (n, dim, dim):
        return np.ascontiguousarray(arr)
    accepted = f"(dim,)=({dim},), ({dim}, {dim})" + (f" or ({n}, {dim}, {dim})" if n is not None else "")
    raise ValueError(f"{fn}: argument 'information' must be None, a scalar, {accepted}; got shape {arr.shape}")


def loss_spec(robust, fn="solve"):
    """(type id, k) from None, "huber", "cauchy", ("huber", k) or ("cauchy", k)."""
    if robust is None:
        return 0, 1.0
    if isinstance(robust, str):
        name, k = robust.lower(), None
    elif isinstance(robust, (tuple, list)) and len(robust) == 2 and isinstance(robust[0], str):
        name, k = robust[0].lower(), robust[1]
    else:
        raise ValueError(f"{fn}: argument 'robust' must be None, 'huber', 'cauchy', ('huber', k) "
                         f"or ('cauchy', k); got {robust!r}")
    if name not in LOSS_IDS:
        raise ValueError(f"{fn}: unknown robust loss {name!r} (use 'huber' or 'cauchy')")
    k = DEFAULT_K[name] if k is None else k
    if not isinstance(k, numbers.Real) or not np.isfinite(k) or k <= 0:
        raise ValueError(f"{fn}: robust loss threshold k must be a positive number, got {k!r}")
    return LOSS_IDS[name], float(k)


def keys_array(keys, fn, arg):
    """Integer keys as an int64 array (N,)."""
    arr = np.asarray(keys)
    if arr.ndim == 0:
        arr = arr[None]
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise TypeError(f"{fn}: argument '{arg}' must be an integer key or a 1-D array of integer keys")
    return np.ascontiguousarray(arr, dtype=np.int64)
