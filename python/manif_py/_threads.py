"""One thread policy for every pool in the process: the C++ batch pools and torch's.

Left alone, torch and the C++ pools each start one thread per core; on a machine where
another process already keeps cores busy they fight it and each other (a registration
took 1.9-2.6 s instead of 0.35 s with one core busy). The policy: unless the user fixed a
count with ``manif_py.set_num_threads(n)``, every pool gets the cores this process may run
on (its CPU affinity) minus those other processes are using right now, at least one.
"""

from __future__ import annotations

import os
import sys

_requested = 0  # 0: follow the machine's load; n > 0: the user's count


def available_cores() -> int:
    """Cores this process may run on (its affinity mask, which containers and taskset narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def busy_cores() -> int:
    """Runnable threads of other processes right now (/proc/loadavg's running count, less this
    one); 0 where the kernel does not say."""
    try:
        with open("/proc/loadavg") as f:
            running = int(f.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return 0
    return max(0, running - 1)


def default_threads() -> int:
    """Threads per pool that leave the cores other processes use to them (at least 1)."""
    return max(1, available_cores() - busy_cores())


def threads_now() -> int:
    """The count every pool should use now: the user's, or the load-aware default."""
    return _requested or default_threads()


def apply(n: int | None = None) -> int:
    """Set every pool (the C++ modules, and torch when it is loaded) to ``n`` threads, or to
    ``threads_now()``; returns the count used."""
    from . import _core

    k = threads_now() if n is None else int(n)
    _core.set_num_threads(k)  # one setting, shared by _decomp and _registration
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != k:
        torch.set_num_threads(k)
    return k


def set_num_threads(n: int) -> None:
    global _requested
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: argument 'n' must be an int >= 0, got {n!r}")
    if n < 0:
        raise ValueError(f"set_num_threads: argument 'n' must be >= 0 (0 = follow the machine's load), got {n}")
    _requested = n
    apply()
