"""Shared helpers of the benchmark scripts: timing, C++ builds, tables, machine facts."""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import subprocess
import sys
import sysconfig
import time
import timeit
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"  # build products and raw JSON (gitignored)
VENVS = ROOT / ".bench-venv"
CXXFLAGS = ["-O3", "-DNDEBUG", "-fno-math-errno", "-std=c++17"]  # those of the manif_py extension


def log(msg: str) -> None:
    """Prints a progress line at once (the scripts are long-running)."""
    print(msg, flush=True)


# ----------------------------------------------------------------------------- timing


def calibrated(stmt: str, env: dict, round_time: float = 0.1):
    """A function that runs one timeit round of `stmt` (loop count calibrated to last
    about round_time) and returns seconds per execution."""
    timer = timeit.Timer(stmt, globals=env)
    number = 1
    while timer.timeit(number) < round_time / 4:  # grow the loop until a round is measurable
        number *= 4
    number = max(1, int(number * round_time / max(timer.timeit(number), 1e-9)))
    return lambda: timer.timeit(number) / number


def time_call(stmt: str, env: dict, rounds: int = 7, round_time: float = 0.1) -> float:
    """Median ns per execution of `stmt` (timeit-style: a calibrated loop count, several rounds)."""
    one_round = calibrated(stmt, env, round_time)
    return statistics.median(one_round() for _ in range(rounds)) * 1e9


def time_batch(fn, n: int, rounds: int = 5) -> float:
    """Median ns per element of fn() over `rounds` runs after one warm-up run."""
    fn()
    runs = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs) * 1e9 / n


# ----------------------------------------------------------------------------- C++ builds


def eigen_include() -> Path:
    """The Eigen headers of the cmeel-eigen package (or $EIGEN3_INCLUDE_DIR)."""
    env = os.environ.get("EIGEN3_INCLUDE_DIR")
    candidates = [Path(env)] if env else []
    candidates += [Path(p) / "cmeel.prefix" / "include" / "eigen3" for p in sys.path if p]
    for c in candidates:
        if (c / "Eigen" / "Core").exists():
            return c
    raise RuntimeError("Eigen headers not found: pip install cmeel-eigen or set EIGEN3_INCLUDE_DIR")


def build(source: Path, target: Path, extra: list[str], deps: list[Path] = ()) -> Path:
    """Compiles source into target with g++ unless target is newer than source, loop_common.h and deps."""
    newest = max(p.stat().st_mtime for p in [source, HERE / "loop_common.h", *deps])
    if target.exists() and target.stat().st_mtime > newest:
        return target
    OUT.mkdir(exist_ok=True)
    cmd = ["g++", *CXXFLAGS, f"-I{eigen_include()}", str(source), "-o", str(target), *extra]
    log(f"   building {target.name}: {' '.join(cmd)}")
    subprocess.run(cmd, check=True)
    return target


def build_extension(source: Path, name: str) -> Path:
    """Builds a pybind11 extension module into OUT and returns OUT."""
    import pybind11

    target = OUT / f"{name}{sysconfig.get_config_var('EXT_SUFFIX')}"
    includes = [f"-I{pybind11.get_include()}", f"-I{sysconfig.get_paths()['include']}"]
    build(source, target, ["-shared", "-fPIC", "-fvisibility=hidden", *includes])
    return OUT


# ----------------------------------------------------------------------------- reporting


def fmt_ns(x) -> str:
    """A time cell: ns with thousands separators, small values with one decimal."""
    if isinstance(x, str):
        return x
    return f"{x:,.1f}" if x < 100 else f"{x:,.0f}"


def fmt_ratio(x) -> str:
    return "n/a" if x is None else f"{x:.2f}x"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def best(values: dict) -> tuple[str, float] | tuple[None, None]:
    """(name, value) of the smallest numeric value, ignoring 'n/a' strings."""
    nums = {k: v for k, v in values.items() if isinstance(v, (int, float))}
    if not nums:
        return None, None
    k = min(nums, key=nums.get)
    return k, nums[k]


def machine_info() -> dict:
    """CPU model, core count, Python and date, for the report."""
    model = platform.processor() or "?"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
    }


def na(exc: BaseException) -> str:
    """'n/a (reason)' for a peer that could not run."""
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"n/a ({type(exc).__name__}: {msg[:80]})"
