"""CNN vs SO(2) / SL(2) / GL+(2)-equivariant networks on affNIST-like MNIST: train, evaluate, tabulate.

    python benchmarks/equivariant_compare.py                       # seeds 0 1 2
    python benchmarks/equivariant_compare.py --seeds 0 --out benchmarks/out/equivariant

Every model trains on the 4,000 untransformed training digits (train-equivariant
defaults) and is evaluated on the clean test digits and on the affNIST-like,
SL(2)-only and wide-rotation test sets (evaluate-equivariant). Writes
OUT/results.md (mean +- std over seeds), OUT/eval/metrics.json and
OUT/eval/accuracy_vs_magnitude.png. Interrupted runs resume from their checkpoints.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

from manif_py.equivariant import evaluate, train

MODELS = ("cnn", "so2", "sl2", "gl2")
LABELS = {"cnn": "CNN", "so2": "SO(2)", "sl2": "SL(2)", "gl2": "GL+(2)"}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    p.add_argument("--out", default="benchmarks/out/equivariant")
    p.add_argument("--epochs", type=int, default=None, help="default: the train-equivariant default")
    p.add_argument("--eval-samples", type=int, default=None, help="group samples per layer at test time")
    p.add_argument("--eval-rotation", choices=("grid", "equidistant", "haar"), default="grid")
    p.add_argument("--eval-spd-std", type=float, default=None, help="test-time SPD spread (default: training's)")
    p.add_argument("--eval-only", action="store_true", help="evaluate existing runs, train nothing")
    p.add_argument("--eval-out", default="eval", help="evaluation folder inside --out")
    p.add_argument("--test-limit", type=int, default=None, help="evaluate on this many test digits")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--jobs", type=int, default=1,
                   help="worker processes (1 torch thread each) training and evaluating runs side by side")
    return p.parse_args(argv)


def mean_std(values) -> str:
    v = 100 * np.asarray(values, dtype=float)
    return f"{v.mean():.1f} ± {v.std():.1f}" if len(v) > 1 else f"{v.mean():.1f}"


def table(results: dict, train_seconds: dict) -> str:
    by_model = {}
    for run, r in results.items():
        by_model.setdefault(r["model"], []).append((run, r))
    head = ("| model | params | clean | affNIST-like | SL(2) set | rotation set | prediction changes (affine) "
            "| train s | eval s |\n|---|---|---|---|---|---|---|---|---|")
    rows = [head]
    for m in MODELS:
        if m not in by_model:
            continue
        rs = [r for _, r in by_model[m]]
        acc = lambda k: mean_std([r["sets"][k]["accuracy"] for r in rs])
        tsec = np.mean([train_seconds.get(run, np.nan) for run, _ in by_model[m]])
        esec = np.mean([r["seconds"] for r in rs])
        rows.append(f"| {LABELS[m]} | {rs[0]['params']:,} | {acc('clean')} | {acc('affnist')} | {acc('sl')} | "
                    f"{acc('rotation')} | {mean_std([r['invariance_rate'] for r in rs])} % | {tsec:.0f} | {esec:.0f} |")
    return "\n".join(rows)


def train_and_evaluate_in_pool(runs: list[str], todo: list[list[str]], options: dict, jobs: int) -> dict:
    """Trains the runs in ``jobs`` worker processes and queues each run's evaluation shards as soon as
    its training ends, so a worker that finishes early evaluates instead of idling. The CNN, a fraction
    of an equivariant model's cost, trains last and fills a gap."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    shards = {}
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        order = sorted(zip(runs, todo), key=lambda item: os.path.basename(item[0]).startswith("cnn"))
        training = {pool.submit(train.main, argv_train): run for run, argv_train in order}
        t0 = time.time()
        for done in as_completed(training):
            done.result()
            print(f"trained {training[done]} ({(time.time() - t0) / 60:.1f} min)", file=sys.stderr)
            shards[training[done]] = evaluate.queue_shards(pool, training[done], options)
        return evaluate.collect_shards({run: shards[run] for run in runs}, options)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    runs, train_seconds, todo = [], {}, []
    t_start = time.time()
    threads = 1 if args.jobs > 1 else args.threads
    for seed in args.seeds:
        for m in args.models:
            run = os.path.join(args.out, "runs", f"{m}_s{seed}")
            argv_train = ["--model", m, "--seed", str(seed), "--out", run, "--resume", "--threads", str(threads)]
            if args.epochs:
                argv_train += ["--epochs", str(args.epochs)]
            if args.jobs > 1:
                argv_train.append("--quiet")
            runs.append(run)
            todo.append(argv_train)
    options = evaluate.evaluation_options(eval_samples=args.eval_samples, test_limit=args.test_limit,
                                          eval_rotation=args.eval_rotation, eval_spd_std=args.eval_spd_std)
    if args.jobs > 1 and not args.eval_only:
        results = train_and_evaluate_in_pool(runs, todo, options, args.jobs)
    else:
        if not args.eval_only:
            for argv_train in todo:
                train.main(argv_train)
        results = evaluate.evaluate_with(runs, options, args.jobs)
    evaluate.write_results(results, os.path.join(args.out, args.eval_out), options)
    for run in runs:
        hist = json.load(open(os.path.join(run, "metrics.json")))["history"]
        train_seconds[run] = sum(h["seconds"] for h in hist)
        print(f"trained {run}: clean test {100 * hist[-1]['test_acc_clean']:.1f}%", file=sys.stderr)
    total = time.time() - t_start
    md = ["# Affine-equivariant networks vs CNN (MNIST 4k train, untransformed)", "",
          f"Seeds {args.seeds}; accuracy in % (mean ± std over seeds); 'prediction changes' = fraction of "
          "(digit, random affNIST-like map) pairs whose prediction differs from the untransformed digit's.",
          f"Total wall time {total / 60:.1f} min with "
          f"{f'{args.jobs} processes of 1 torch thread' if args.jobs > 1 else f'{args.threads} torch threads'} "
          "(train s: training only; eval s: all four test sets).", "",
          f"Test-time group samples: {args.eval_samples or 'as in training'} per layer, rotations "
          f"'{args.eval_rotation}', SPD spread {args.eval_spd_std if args.eval_spd_std is not None else 'as in training'}.",
          "", table(results, train_seconds), "",
          f"![accuracy vs magnitude]({args.eval_out}/accuracy_vs_magnitude.png)", ""]
    name = "results.md" if args.eval_out == "eval" else f"results_{args.eval_out}.md"
    with open(os.path.join(args.out, name), "w") as f:
        f.write("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
