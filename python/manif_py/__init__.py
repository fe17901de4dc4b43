"""manif_py: Lie groups for robotics and 3D vision on a compiled C++17 core.

Groups: SO2, SE2, SO3, SE3, SE23 (SE_2(3)), SGal3, Sim3 and R1..R6, each with its
tangent type (``SE3Tangent`` ...). Every operation takes ``jacobians=True`` to return
analytic Jacobians, right (local) by default or left (global) with
``convention="left"``. ``manif_py.batch.<Group>`` runs the same operations on arrays
with the element axis first.
"""

from . import _core
from ._core import (
    R1, R1Tangent, R2, R2Tangent, R3, R3Tangent, R4, R4Tangent, R5, R5Tangent, R6, R6Tangent,
    SE2, SE2Tangent, SE3, SE3Tangent, SE23, SE23Tangent, SGal3, SGal3Tangent, Sim3, Sim3Tangent,
    SO2, SO2Tangent, SO3, SO3Tangent, get_num_threads, set_parallel_threshold,
)
from ._core import batch
from . import _conveniences  # noqa: F401  (adds Euler angles, @ dispatch, Rn(n) lookup)
from ._conveniences import Rn, unchecked

__version__ = "0.2.0"


def set_num_threads(n: int) -> None:
    """Threads of every pool in the process: the groups', decompositions' and
    registration kernels' C++ pools, and torch's intra-op threads (when torch is
    loaded, and again whenever the registration pipeline runs). n = 0 (the default
    policy) gives each pool the cores of this process's affinity less those other
    processes keep busy now, at least one, so they never oversubscribe the machine."""
    from . import _threads

    _threads.set_num_threads(n)

GROUPS = tuple(getattr(_core, name) for name in _core.GROUP_NAMES)  # the groups the core binds, in its order

__all__ = [g.__name__ for g in GROUPS] + [g.__name__ + "Tangent" for g in GROUPS] + [
    "batch", "Rn", "unchecked", "GROUPS", "get_num_threads", "set_num_threads", "set_parallel_threshold",
]
