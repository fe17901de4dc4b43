"""Reverse diffusion with and without the posterior noise, on validation problems.

    python benchmarks/registration_noise_validation.py

Validation problems: shapes of the *training* families on seeds that no training run
draws (the evaluation's seeds), never the held-out test families. Compares the
shipped diffusion network's reverse process with the noise on and off:
  * the network alone (one start, no ICP), 200 problems of partial:45 and clean:45;
  * the full pipeline (24-start screen, diffusion, ICP), 60 problems of partial, noisy
    and single-view scans over SO(3).
Prints recall at 5/10/20 degrees and the median rotation error, and writes
benchmarks/out/registration_noise_validation.json. This is how the default (noise
off) was chosen.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
from tqdm import tqdm

from manif_py.registration.evaluation import metrics
from manif_py.registration.synthetic.dataset import held_out_problem
from manif_py.registration.pipeline import estimate_pose
from manif_py.registration.synthetic.shapes import TRAIN_FAMILIES

# (setting, rotation, problems, options of estimate_pose)
RUNS = (("partial", "45", 200, dict(refine=False, starts=1)),
        ("clean", "45", 200, dict(refine=False, starts=1)),
        ("partial", "so3", 60, {}),
        ("noisy", "so3", 60, {}),
        ("single_view", "so3", 60, {}))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0, help="fraction of each run's problems (quick looks)")
    p.add_argument("--out", default="benchmarks/out/registration_noise_validation.json")
    args = p.parse_args(argv)
    if not 0 < args.scale <= 1:
        p.error(f"argument --scale must be in (0, 1], got {args.scale}")
    return args


def summary(errors) -> dict:
    e = np.asarray(errors)
    return {f"R@{d}": float(100 * np.mean(e < d)) for d in (5, 10, 20)} | {"median_deg": float(np.median(e))}


def main(argv=None) -> int:
    args = parse_args(argv)
    results = {}
    for setting, rotation, count, options in RUNS:
        count = max(1, int(round(count * args.scale)))
        label = f"{setting}:{rotation}, " + ("network alone" if options else "full pipeline")
        errors = {"noise on": [], "noise off": []}
        for i in tqdm(range(count), desc=label, unit="pair"):
            seed = 1000 + i  # the evaluation's test indices start at 0: keep clear of them
            pair = held_out_problem(seed, setting, rotation=rotation, families=TRAIN_FAMILIES)
            for name, noise in (("noise on", True), ("noise off", False)):
                T = estimate_pose(pair["source"], pair["model"], seed=seed, noise=noise, **options).transformation
                row = metrics.evaluate_one(pair["source"], pair["model"], T, pair["T_gt"], pair["diameter"])
                errors[name].append(row["rotation_error_deg"])
        results[label] = {name: summary(e) for name, e in errors.items()}
        for name, s in results[label].items():
            print(f"{label:36s} {name:9s} " + "  ".join(f"{k} {v:.1f}" for k, v in s.items()))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"args": vars(args), "results": results}, f, indent=1)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
