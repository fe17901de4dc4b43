"""Evaluate trained classifiers on affine-transformed test digits.

    manif-py evaluate-equivariant --runs runs/cnn_s0 runs/gl2_s0 --out eval/

For every run (a --out directory of train-equivariant): accuracy on the clean
test digits and on each transformed set (affnist, sl, rotation: see
``transforms``), accuracy per bin of transformation magnitude, and the
invariance rate: the fraction of (digit, random affNIST-like map) pairs whose
predicted class differs from the prediction on the untransformed digit.
Writes OUT/metrics.json and OUT/accuracy_vs_magnitude.png.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time

import numpy as np
import torch

from . import checkpoint, data, transforms
from .models import EquivariantNet
from .train import make_model

DEFAULT_PER_DIGIT = {"affnist": 32, "sl": 4, "rotation": 4}
NUM_BINS = 6


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="manif-py evaluate-equivariant", description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", nargs="+", required=True, help="run directories written by train-equivariant")
    p.add_argument("--out", required=True)
    p.add_argument("--eval-samples", type=int, default=None,
                   help="group samples per layer at test time (default: the training number)")
    p.add_argument("--eval-seed", type=int, default=0, help="seed of the fixed test-time SPD factors")
    p.add_argument("--eval-rotation", choices=("grid", "equidistant", "haar"), default="grid",
                   help="test-time rotations: grid = multiples of 90 degrees (each with samples/4 SPD factors)")
    p.add_argument("--eval-spd-std", type=float, default=None, help="test-time SPD spread (default: training's)")
    p.add_argument("--eval-offsets", type=int, default=None,
                   help="rotation offsets in [0, 90) deg to max over, for models trained with --rotate-input "
                        "(default: the training configuration's eval_offsets, else 1)")
    p.add_argument("--per-digit", type=int, nargs=3, default=None, metavar=("AFFNIST", "SL", "ROTATION"),
                   help="transformed copies per test digit (default 32 4 4)")
    p.add_argument("--test-limit", type=int, default=None, help="use this many test digits (stratified subset)")
    p.add_argument("--batch", type=int, default=32, help="images per forward pass (32 ran fastest on CPU)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--jobs", type=int, default=1,
                   help="worker processes sharing the runs' test images (1 thread each)")
    p.add_argument("--device", default=None)
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    for name in ("eval_samples", "test_limit", "batch", "threads", "eval_offsets", "jobs"):
        v = getattr(args, name)
        if v is not None and v < 1:
            raise ValueError(f"argument '--{name.replace('_', '-')}' must be >= 1, got {v}")
    return args


def load_run(run_dir: str, device, eval_samples: int | None = None, eval_seed: int = 0, eval_rotation: str = "grid",
             eval_spd_std: float | None = None, eval_offsets: int | None = None):
    """(model in eval mode with fixed test-time samples, config, params) of a run directory."""
    path = os.path.join(run_dir, "checkpoint.pt")
    if not os.path.exists(path):
        raise FileNotFoundError(f"argument '--runs': {run_dir} has no checkpoint.pt")
    ckpt = checkpoint.read(path, make_model)
    cfg = ckpt["config"]
    model = make_model(cfg)
    model.load_state_dict(ckpt["model"])
    if isinstance(model, EquivariantNet):
        model.fix_samples(eval_samples or cfg["num_samples"], seed=eval_seed, rotation=eval_rotation,
                          spd_std=eval_spd_std)
        if eval_offsets is not None:
            model.set_eval_offsets(eval_offsets)
    return model.to(device).eval(), cfg, ckpt["params"]


def test_sets(per_digit: dict, test_limit: int | None = None, seed: int = 0) -> dict:
    """The clean test digits and the transformed sets, each a dict of numpy arrays (see transforms.make_test_set)."""
    _, _, x, y = data.train_test_digits(seed=0)
    if test_limit:
        _, keep = data.stratified_split(y, train_per_class=len(y) // 10 - test_limit // 10, seed=3)
        x, y = x[keep], y[keep]
    sets = {"clean": dict(family="clean", images=x, labels=y, digit=np.arange(len(y)))}
    for fam in transforms.FAMILIES:
        sets[fam] = transforms.make_test_set(fam, x, y, per_digit[fam], seed=seed)
    return sets


@torch.no_grad()
def predict(model, images: np.ndarray, device, batch: int, dtype) -> np.ndarray:
    out = []
    for i in range(0, len(images), batch):
        xb = torch.from_numpy(images[i:i + batch]).to(device=device, dtype=dtype)
        out.append(model(xb).argmax(1).cpu().numpy())
    return np.concatenate(out)


def binned_accuracy(magnitude: np.ndarray, correct: np.ndarray, edges: np.ndarray) -> dict:
    idx = np.clip(np.digitize(magnitude, edges[1:-1]), 0, len(edges) - 2)
    acc = [float(correct[idx == b].mean()) if (idx == b).any() else None for b in range(len(edges) - 1)]
    count = [int((idx == b).sum()) for b in range(len(edges) - 1)]
    return dict(edges=edges.tolist(), centres=(0.5 * (edges[1:] + edges[:-1])).tolist(), accuracy=acc, count=count)


def metrics(sets: dict, preds: dict) -> dict:
    """Accuracies, invariance rate and binned accuracies from the predicted classes of every test set."""
    res = {}
    for name, s in sets.items():
        correct = preds[name] == s["labels"]
        entry = dict(accuracy=float(correct.mean()), n=int(len(correct)))
        if "magnitude" in s:
            edges = np.quantile(s["magnitude"], np.linspace(0, 1, NUM_BINS + 1))
            entry["by_magnitude"] = binned_accuracy(s["magnitude"], correct, edges)
            entry["magnitude_label"] = s["magnitude_label"]
        res[name] = entry
    clean = preds["clean"]
    for fam in transforms.FAMILIES:
        if fam in sets:
            res[fam]["prediction_change_rate"] = float((preds[fam] != clean[sets[fam]["digit"]]).mean())
    res["invariance_rate"] = res["affnist"]["prediction_change_rate"]
    return res


def evaluate_model(model, sets: dict, device, batch: int = 32, dtype=torch.float32,
                   return_predictions: bool = False):
    """Accuracies, invariance rate and binned accuracies of one model on the test sets; with
    ``return_predictions``, (that dict, {set name: predicted classes})."""
    preds = {name: predict(model, s["images"], device, batch, dtype) for name, s in sets.items()}
    res = metrics(sets, preds)
    return (res, preds) if return_predictions else res


def plot(results: dict, path: str) -> None:
    """Accuracy against transformation magnitude, one panel per test family, one line per model
    (mean over the runs of that model)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fams = transforms.FAMILIES
    fig, axes = plt.subplots(1, len(fams), figsize=(5 * len(fams), 4))
    by_model = {}
    for run, r in results.items():
        by_model.setdefault(r["model"], []).append(r)
    for ax, fam in zip(axes, fams):
        for model, rs in sorted(by_model.items()):
            centres = np.mean([r["sets"][fam]["by_magnitude"]["centres"] for r in rs], 0)
            acc = np.array([[np.nan if a is None else a for a in r["sets"][fam]["by_magnitude"]["accuracy"]] for r in rs])
            ax.plot(centres, 100 * np.nanmean(acc, 0), marker="o", label=f"{model} ({len(rs)} run{'s' * (len(rs) > 1)})")
        ax.set_title(f"{fam} test set")
        ax.set_xlabel(rs[0]["sets"][fam]["magnitude_label"])
        ax.set_ylabel("accuracy (%)")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# Shards of the test images per run when worker processes share the evaluation: enough that the
# last tasks are short and a pool of workers stays busy to the end.
SHARDS_PER_RUN = 8


@functools.lru_cache(maxsize=2)
def _cached_test_sets(per_digit_items: tuple, test_limit: int | None) -> dict:
    return test_sets(dict(per_digit_items), test_limit)


def _sets_of(per_digit: dict, test_limit: int | None) -> dict:
    """The test sets of an evaluation, built once per process (they are seeded: every worker builds
    the same ones)."""
    return _cached_test_sets(tuple(sorted(per_digit.items())), test_limit)


def predict_shard(run: str, shard: int = 0, num_shards: int = 1, *, per_digit: dict, test_limit: int | None,
                  device, batch: int, eval_samples, eval_seed, eval_rotation, eval_spd_std, eval_offsets,
                  threads: int | None = None) -> tuple[dict, float]:
    """({set name: predicted classes of images shard, shard + num_shards, ...}, seconds) for one run.

    A worker builds the test sets itself instead of receiving them (hundreds of MB per task)."""
    if threads:
        torch.set_num_threads(threads)
    t0 = time.time()
    sets = _sets_of(per_digit, test_limit)
    dev = torch.device(device)
    model, cfg, _ = load_run(run, dev, eval_samples, eval_seed, eval_rotation, eval_spd_std, eval_offsets)
    preds = {name: predict(model, s["images"][shard::num_shards], dev, batch, getattr(torch, cfg["dtype"]))
             for name, s in sets.items()}
    return preds, time.time() - t0


def evaluation_tasks(run: str, options: dict, num_shards: int = 1) -> list:
    """Callables (picklable, for worker processes) whose results ``finish_run`` merges: one per shard."""
    return [functools.partial(predict_shard, run, i, num_shards, **options) for i in range(num_shards)]


def finish_run(run: str, shard_results: list, options: dict, quiet: bool = False) -> dict:
    """The metrics entry of one run from the results of its ``evaluation_tasks``, in task order."""
    sets = _sets_of(options["per_digit"], options["test_limit"])
    n = len(shard_results)
    preds = {}
    for name, s in sets.items():
        preds[name] = np.empty(len(s["labels"]), dtype=np.int64)
        for i, (part, _) in enumerate(shard_results):
            preds[name][i::n] = part[name]
    r = metrics(sets, preds)
    cfg = checkpoint.read(os.path.join(run, "checkpoint.pt"), make_model)
    params, cfg = cfg["params"], cfg["config"]
    equivariant = cfg["model"] != "cnn"
    seconds = sum(sec for _, sec in shard_results)
    entry = dict(model=cfg["model"], seed=cfg["seed"], params=params, config=cfg,
                 eval_samples=(options["eval_samples"] or cfg.get("num_samples")) if equivariant else None,
                 eval_rotation=options["eval_rotation"], eval_spd_std=options["eval_spd_std"],
                 eval_offsets=(options["eval_offsets"] or cfg.get("eval_offsets", 1)) if equivariant else None,
                 sets={k: v for k, v in r.items() if k != "invariance_rate"},
                 invariance_rate=r["invariance_rate"], seconds=seconds)
    if not quiet:
        accs = " ".join(f"{k} {100 * r[k]['accuracy']:.1f}" for k in sets)
        print(f"[{cfg['model']} seed {cfg['seed']}] {accs}; prediction changes {100 * r['invariance_rate']:.1f}% "
              f"({seconds:.0f}s of evaluation)", file=sys.stderr)
    return entry


def write_results(results: dict, out: str, options: dict) -> None:
    """OUT/metrics.json and OUT/accuracy_vs_magnitude.png."""
    os.makedirs(out, exist_ok=True)
    sets = _sets_of(options["per_digit"], options["test_limit"])
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(dict(per_digit=options["per_digit"], test_digits=len(sets["clean"]["labels"]), runs=results), f,
                  indent=2)
    plot(results, os.path.join(out, "accuracy_vs_magnitude.png"))


def queue_shards(pool, run: str, options: dict) -> list:
    """Submits one run's SHARDS_PER_RUN evaluation shards to a process pool (one torch thread each)."""
    return [pool.submit(task, threads=1) for task in evaluation_tasks(run, options, SHARDS_PER_RUN)]


def collect_shards(shards: dict, options: dict, quiet: bool = False) -> dict:
    """{run: metrics entry} once every run's queued shards ({run: futures}) are done, with a progress bar."""
    if not quiet:
        from concurrent.futures import as_completed

        from tqdm import tqdm

        futures = [f for fs in shards.values() for f in fs]
        for _ in tqdm(as_completed(futures), total=len(futures), desc="evaluation shards", file=sys.stderr):
            pass
    return {run: finish_run(run, [f.result() for f in fs], options, quiet) for run, fs in shards.items()}


def evaluate_with(runs: list[str], options: dict, jobs: int = 1, quiet: bool = False) -> dict:
    """{run: metrics entry} for runs already trained: in this process, or sharded over ``jobs`` workers."""
    if jobs <= 1:
        return {run: finish_run(run, [task() for task in evaluation_tasks(run, options)], options, quiet)
                for run in runs}
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        return collect_shards({run: queue_shards(pool, run, options) for run in runs}, options, quiet)


def evaluation_options(eval_samples: int | None = None, eval_seed: int = 0, per_digit: dict | None = None,
                       test_limit: int | None = None, batch: int = 32, device: str | None = None,
                       eval_rotation: str = "grid", eval_spd_std: float | None = None,
                       eval_offsets: int | None = None) -> dict:
    """The keyword arguments every evaluation task of one comparison shares."""
    device = str(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    return dict(per_digit=dict(per_digit or DEFAULT_PER_DIGIT), test_limit=test_limit, device=device, batch=batch,
                eval_samples=eval_samples, eval_seed=eval_seed, eval_rotation=eval_rotation,
                eval_spd_std=eval_spd_std, eval_offsets=eval_offsets)


def evaluate_runs(runs: list[str], out: str, eval_samples: int | None = None, eval_seed: int = 0,
                  per_digit: dict | None = None, test_limit: int | None = None, batch: int = 32,
                  device: str | None = None, quiet: bool = False, eval_rotation: str = "grid",
                  eval_spd_std: float | None = None, eval_offsets: int | None = None, jobs: int = 1) -> dict:
    """Evaluates every run, writes OUT/metrics.json and the plot; returns {run_dir: metrics}.

    jobs > 1: that many worker processes (one torch thread each) share the work, every run split into
    SHARDS_PER_RUN shards of the test images so no worker idles while another finishes a whole run;
    on a small CPU that is faster than one process with several threads."""
    options = evaluation_options(eval_samples, eval_seed, per_digit, test_limit, batch, device, eval_rotation,
                                 eval_spd_std, eval_offsets)
    results = evaluate_with(runs, options, jobs, quiet)
    write_results(results, out, options)
    return results


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    per_digit = dict(zip(transforms.FAMILIES, args.per_digit)) if args.per_digit else None
    evaluate_runs(args.runs, args.out, args.eval_samples, args.eval_seed, per_digit, args.test_limit, args.batch,
                  args.device, args.quiet, args.eval_rotation, args.eval_spd_std, args.eval_offsets, args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
