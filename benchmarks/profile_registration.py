"""Where the full registration pipeline spends its time: cProfile over held-out problems.

    python benchmarks/profile_registration.py --pairs 12 --setting partial --rotation so3
    python benchmarks/profile_registration.py --stages

Runs ``estimate_pose`` (the shipped network, one torch thread) on held-out problems after
one warm-up call, and prints the share of the total spent in the network (the reverse
diffusion / screening calls), in our ICP and in the rest, then cProfile's top entries.
``--stages`` instead times the network's parts on one partial problem with torch's default
threads (what a registration uses): describing the model, describing the scan, matching,
each further start of the 24-start screen, and torch's attention kernel against a plain
softmax-matmul on the screen's cross-attention shapes.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys

import numpy as np
import torch
import torch.nn.functional as F

from _common import time_batch
from manif_py.registration.synthetic.dataset import held_out_problem
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
    p.add_argument("--stages", action="store_true", help="time the network's parts instead of profiling")
    return p.parse_args(argv)


def _ms(fn, repeats=20) -> float:
    """Median wall time of fn() in milliseconds, after one warm-up call."""
    return time_batch(fn, 1, rounds=repeats) / 1e6


@torch.inference_mode()
def stage_times(setting, rotation) -> None:
    from manif_py.registration.model import checkpoint
    from manif_py.registration.synthetic.dataset import normalised_problem

    net, _, _ = checkpoint.load()
    pair = held_out_problem(0, setting, rotation=rotation)
    src, nsrc, tgt, ntgt, _ = normalised_problem(pair, net.cfg.n_source, net.cfg.n_model, np.random.default_rng(0))
    X, NX, Y, NY = (torch.from_numpy(a[None].astype(np.float32)) for a in (src, nsrc, tgt, ntgt))
    fx, fy = net.embed(X, NX), net.embed(Y, NY)
    starts = 24
    Xs, NXs = X.expand(starts, -1, -1).contiguous(), NX.expand(starts, -1, -1).contiguous()
    one = _ms(lambda: net.match(net.embed(X, NX), fy, X, Y))
    batch = _ms(lambda: net.match(net.embed(Xs, NXs), fy.expand(starts, -1, -1), Xs, Y.expand(starts, -1, -1)), 5)
    print(f"torch threads {torch.get_num_threads()}; {setting}:{rotation}, {net.cfg.n_source} scan / "
          f"{net.cfg.n_model} model points")
    print(f"  describe the model (once per registration)  {_ms(lambda: net.embed(Y, NY)):6.2f} ms")
    print(f"  describe the scan                           {_ms(lambda: net.embed(X, NX)):6.2f} ms")
    print(f"  match (cross-attention, Procrustes)         {_ms(lambda: net.match(fx, fy, X, Y)):6.2f} ms")
    print(f"  one start (scan + match)                    {one:6.2f} ms")
    print(f"  {starts} starts in one batch                     {batch:6.2f} ms "
          f"({(batch - one) / (starts - 1):.2f} ms per further start)")
    heads, d = net.cfg.heads, net.cfg.feature_dim // net.cfg.heads
    q = torch.randn(starts, heads, net.cfg.n_source, d)
    k, v = torch.randn(2, starts, heads, net.cfg.n_model, d)
    plain = _ms(lambda: torch.softmax(q @ k.transpose(-1, -2) * d ** -0.5, dim=-1) @ v, 5)
    fused = _ms(lambda: F.scaled_dot_product_attention(q, k, v), 5)
    print(f"  screen cross-attention: scaled_dot_product_attention {fused:.2f} ms, plain softmax-matmul "
          f"{plain:.2f} ms ({plain / fused:.1f}x)")


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.stages:
        stage_times(args.setting, args.rotation)
        return 0
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
