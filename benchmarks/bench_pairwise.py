"""Times decomp.pairwise (C++) against decomp_torch.pairwise (vectorised torch, 1 and 2
threads) at the group-convolution sizes, and prints times and ratios.

    python benchmarks/bench_pairwise.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import timeit

import numpy as np
import torch

from manif_py import decomp, decomp_torch

SIZES = [(10, 10, 5), (16, 16, 5), (32, 32, 7)]


def best_of(fn, repeats: int, round_time: float = 0.1) -> float:
    """Best (minimum) over `repeats` rounds of the per-call time, each round about
    round_time long: on a shared machine the minimum is the least disturbed figure."""
    timer = timeit.Timer(fn)
    number = 1
    while timer.timeit(number) < round_time / 4:
        number *= 4
    return min(timer.timeit(number) / number for _ in range(repeats))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--group", default="GL2", choices=["SO2", "SL2", "GL2"])
    args = ap.parse_args()
    group = args.group
    print(f"pairwise({group}), float64, best of {args.repeats} rounds; times in microseconds")
    print(f"{'M':>4} {'K':>4} {'k':>3} | {'torch 1T':>9} {'torch 2T':>9} {'C++':>8} | {'1T/C++':>7} {'2T/C++':>7}")
    for M, K, k in SIZES:
        _, hi = decomp.sample(group, M, seed=1, spd_std=0.3)
        h, _ = decomp.sample(group, K, seed=2, spd_std=0.3)
        thi, th = torch.from_numpy(hi), torch.from_numpy(h)
        ours = decomp.pairwise(group, hi, h, k)
        ref = decomp_torch.pairwise(group, thi, th, k)
        assert np.abs(ours[0] - ref[0].numpy()).max() < 1e-10 and np.array_equal(ours[1], ref[1].numpy())
        times = {}
        for threads in (1, 2):
            torch.set_num_threads(threads)
            times[threads] = best_of(lambda: decomp_torch.pairwise(group, thi, th, k), args.repeats)
        torch.set_num_threads(1)
        cpp = best_of(lambda: decomp.pairwise(group, hi, h, k), args.repeats)
        print(f"{M:>4} {K:>4} {k:>3} | {times[1] * 1e6:>9.1f} {times[2] * 1e6:>9.1f} {cpp * 1e6:>8.1f} | "
              f"{times[1] / cpp:>7.1f} {times[2] / cpp:>7.1f}")


if __name__ == "__main__":
    main()
