"""Choose equivariant-network settings on held-out *training* digits, never on the test set.

    python benchmarks/equivariant_validation.py --name blurmax_margin4 -- --pool blurmax --input-margin 4
    python benchmarks/equivariant_validation.py --name max_nomargin -- --pool max --input-margin 0

Trains one model (``train-equivariant`` with the flags after ``--``) on 3,500 of the
4,000 training digits and validates it on the other 500, transformed like the test
sets: affNIST-like (4 copies per digit), SL(2) (1), rotation (2), and "shift": the
affNIST-like set's translations alone (A = I), which isolates translation from the
linear part. Also reports affNIST-like accuracy by |rotation angle|, the factor that
costs most, and the fraction of predictions that change when the clean digits are
rolled by a few whole pixels (pooling aliasing; 4 is the network's total stride).
Writes OUT/NAME/validation.json and prints it.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time

import numpy as np
import torch

from manif_py.equivariant import data, evaluate, train, transforms

TRAIN_DIGITS = 3500
COPIES = {"affnist": 4, "sl": 1, "rotation": 2}
ANGLE_BINS = (0.0, 5.0, 10.0, 15.0, 20.0)
ROLLS = ((0, 1), (1, 1), (0, 2), (0, 4))   # integer pixel shifts (rows, columns) of the clean digits


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--name", required=True, help="run name (folder under --out)")
    p.add_argument("--model", default="gl2", choices=("cnn", "so2", "sl2", "gl2"))
    p.add_argument("--out", default="benchmarks/out/equivariant_validation")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--eval-samples", type=int, nargs="+", default=[4], help="test-time group samples to try")
    p.add_argument("--eval-offsets", type=int, nargs="+", default=[1],
                   help="test-time rotation offsets to try (models trained with --rotate-input)")
    p.add_argument("--eval-rotation", choices=("grid", "equidistant"), default="grid",
                   help="test-time rotations: quarter turns, or M equidistant angles 2 pi i / M")
    p.add_argument("train_flags", nargs=argparse.REMAINDER, help="-- then train-equivariant flags")
    args = p.parse_args(argv)
    args.train_flags = [f for f in args.train_flags if f != "--"]
    return args


def validation_sets(seed: int = 5) -> dict:
    x_tr, y_tr, _, _ = data.train_test_digits(seed=0)
    _, held = train.train_subset(len(x_tr), TRAIN_DIGITS)
    x, y = x_tr[held], y_tr[held]
    sets = {"clean": dict(family="clean", images=x, labels=y, digit=np.arange(len(y)))}
    for fam, n in COPIES.items():
        sets[fam] = transforms.make_test_set(fam, x, y, n, seed=seed)
    aff = sets["affnist"]
    eye = np.broadcast_to(np.eye(2), aff["A"].shape).copy()
    shifted = transforms.warp_affine(x[aff["digit"]], transforms.theta_from(eye, aff["t"], x.shape[-1]))
    sets["shift"] = dict(family="shift", images=shifted.astype(np.float32), labels=aff["labels"], digit=aff["digit"])
    return sets


def roll_changes(model, clean: dict, clean_pred: np.ndarray) -> dict:
    """Fraction of predictions that change when the clean digits are rolled by each of ROLLS."""
    images = torch.from_numpy(clean["images"])
    out = {}
    for dy, dx in ROLLS:
        rolled = torch.roll(images, (dy, dx), (-2, -1)).numpy()
        out[f"({dy}, {dx})"] = float((evaluate.predict(model, rolled, "cpu", 250, torch.float32) != clean_pred).mean())
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    run = os.path.join(args.out, args.name)
    t0 = time.time()
    train.main(["--model", args.model, "--seed", str(args.seed), "--out", run, "--resume", "--threads",
                str(args.threads), "--train-limit", str(TRAIN_DIGITS)] + args.train_flags)
    train_s = time.time() - t0
    sets = validation_sets()
    report = dict(name=args.name, model=args.model, train_flags=args.train_flags, train_seconds=train_s,
                  config=json.load(open(os.path.join(run, "config.json"))), results={})
    rotate = report["config"].get("rotate_input", False)
    for m, k in itertools.product([4] if args.model == "cnn" else args.eval_samples,
                                  args.eval_offsets if rotate else [1]):
        model, _, _ = evaluate.load_run(run, "cpu", eval_samples=m, eval_rotation=args.eval_rotation, eval_offsets=k)
        r, pred = evaluate.evaluate_model(model, sets, "cpu", return_predictions=True)
        entry = {k: r[k]["accuracy"] for k in sets}
        entry["prediction_changes"] = r["invariance_rate"]
        aff = sets["affnist"]
        entry["affnist_by_angle"] = evaluate.binned_accuracy(np.abs(np.degrees(aff["params"]["angle"])),
                                                             pred["affnist"] == aff["labels"], np.array(ANGLE_BINS))
        entry["roll_prediction_changes"] = roll_changes(model, sets["clean"], pred["clean"])
        key = f"{args.eval_rotation}{m}" + (f"_offsets{k}" if rotate else "")
        report["results"][key] = entry
        print(json.dumps({key: entry}), flush=True)
    name = "validation.json" if args.eval_rotation == "grid" else f"validation_{args.eval_rotation}.json"
    with open(os.path.join(run, name), "w") as f:
        json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
