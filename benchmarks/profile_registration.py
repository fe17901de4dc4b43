"""Where the full registration pipeline spends its time: cProfile over held-out problems.

    python benchmarks/profile_registration.py --pairs 12 --setting partial --rotation so3

Runs ``estimate_pose`` (the shipped network, one torch thread) on held-out problems after
one warm-up call, and prints the share of the total spent in the network (the reverse
diffusion / screening calls), in our ICP and in the rest, then cProfile's top entries.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys

import torch

from manif_py.registration.dataset import held_out_problem
from manif_py.registration.pipeline import estimate_pose

# (label, function name as cProfile lists it, file it lives in)
PARTS = (("network (screening + reverse diffusion)", "register", "diffusion.py"),
         ("ICP (C++)", "icp", "kernels.py"))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", type=int, default=12)
    p.add_argument("--setting", default="partial")
    p.add_argument("--rotation", default="so3")
    p.add_argument("--top", type=int, default=15)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)
    pairs = [held_out_problem(i, args.setting, rotation=args.rotation) for i in range(args.pairs)]
    estimate_pose(pairs[0]["source"], pairs[0]["model"])       # warm-up: loads the network
    profiler = cProfile.Profile()
    profiler.enable()
    for p in pairs[1:]:
        estimate_pose(p["source"], p["model"], seed=1)
    profiler.disable()
    stats = pstats.Stats(profiler)
    cumulative = {(path, name): entry[3] for (path, _, name), entry in stats.stats.items()}
    total = next(t for (path, name), t in cumulative.items() if name == "estimate_pose")
    n = len(pairs) - 1
    print(f"{n} registrations ({args.setting}:{args.rotation}), {1e3 * total / n:.1f} ms each under the profiler")
    rest = total
    for label, name, file in PARTS:
        t = sum(v for (path, fn), v in cumulative.items() if fn == name and path.endswith(file))
        rest -= t
        print(f"  {label:42s} {100 * t / total:5.1f} %")
    print(f"  {'everything else':42s} {100 * rest / total:5.1f} %")
    stats.sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
