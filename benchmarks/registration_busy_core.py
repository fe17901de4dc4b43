"""estimate_pose's median time while another process keeps one core busy, under the thread
policy (after) and with every pool on all cores, the old default (before).

    python benchmarks/registration_busy_core.py            # both, with its own busy process
    python benchmarks/registration_busy_core.py --problems 8 --no-busy

Inputs: 10,000-point models of held-out procedural objects and 3,500-point single-view
scans (hidden-point removal, 0.5% noise) at random rotations.
"""

import argparse
import subprocess
import sys
import time

import numpy as np


def problem(seed):
    from manif_py.registration.synthetic import shapes, views
    from manif_py.registration.units import extent

    P = shapes.make_object(seed, n_points=14000).points
    rng = np.random.default_rng(seed)
    model, D = P[:10000], extent(P[:10000])
    vis = P[views.hidden_point_removal(P, views.random_viewpoint(rng, 2.0 * D))]
    scan = vis[rng.permutation(len(vis))[:3500]]
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    R = q * np.sign(np.diag(r))
    R = R if np.linalg.det(R) > 0 else -R
    return (scan + rng.normal(scale=0.005 * D, size=scan.shape)) @ R.T, model


def run(mode, count):
    """Median ms of estimate_pose over `count` problems (the first call, which loads the network, left out)."""
    import torch

    import manif_py
    from manif_py import _core, _decomp, _registration, _threads
    from manif_py.registration import estimate_pose

    if mode == "before":  # every pool on every core, as before the policy
        _threads.apply = lambda n=None: None
        for m in (_core, _decomp, _registration):
            m.set_num_threads(0)
        torch.set_num_threads(_threads.available_cores())
    else:
        manif_py.set_num_threads(0)
    times = []
    for seed in range(1_000_000, 1_000_000 + count + 1):
        scan, model = problem(seed)
        t = time.perf_counter()
        estimate_pose(scan, model, seed=0)
        times.append(time.perf_counter() - t)
    return 1000 * float(np.median(times[1:])), torch.get_num_threads()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--problems", type=int, default=8)
    p.add_argument("--no-busy", action="store_true", help="do not start the busy process")
    p.add_argument("--mode", choices=("before", "after"), help=argparse.SUPPRESS)  # one measurement, in a child
    args = p.parse_args()
    if args.mode:
        ms, threads = run(args.mode, args.problems)
        print(f"{args.mode}: median {ms:.0f} ms (torch threads {threads})")
        return
    busy = None if args.no_busy else subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        for mode in ("before", "after"):  # each in a fresh process: torch's pool is set once per process
            subprocess.run([sys.executable, __file__, "--mode", mode, "--problems", str(args.problems)], check=True)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()


if __name__ == "__main__":
    main()
