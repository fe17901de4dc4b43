"""``manif-py evaluate-registration``: our networks against the classical pipelines.

    manif-py evaluate-registration --checkpoint runs/diffusion/model.pt \\
        --one-shot-checkpoint runs/one_shot/model.pt --pairs 100 --out runs/eval

Test problems come from the generator's held-out shape families (never seen in
training), in the RPM-Net settings (clean, noisy, partial; rotations up to 45
degrees per axis or over all of SO(3)) and a single-view setting. Every method
gets the same inputs; times are wall-clock per registration on this machine.
Writes metrics.json, results.md (one table per setting) and recall.png.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from . import metrics
from .baselines import BASELINES
from ..synthetic.dataset import held_out_problem

DEFAULT_SETTINGS = ("clean:45", "noisy:45", "partial:45", "clean:so3", "noisy:so3", "partial:so3", "single_view:so3")
OURS = ("ours_one_shot", "ours_diffusion", "ours_full")


def parse_args(argv):
    p = argparse.ArgumentParser(prog="manif-py evaluate-registration", description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", help="diffusion-trained network (default: the shipped one)")
    p.add_argument("--one-shot-checkpoint", help="the same network trained one-shot (the ablation; default: the "
                   "shipped one)")
    p.add_argument("--settings", nargs="+", default=list(DEFAULT_SETTINGS), help="SETTING:ROTATION items")
    p.add_argument("--pairs", type=int, default=50, help="test problems per setting")
    p.add_argument("--methods", nargs="+", choices=OURS + BASELINES, metavar="METHOD",
                   help=f"subset of methods (default: all available): {', '.join(OURS + BASELINES)}")
    p.add_argument("--families", nargs="+", help="shape families of the test objects (default: the held-out "
                   "families, revolved and mechanical); test seeds are never used in training whatever the family")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    if args.pairs < 1:
        p.error(f"argument --pairs must be at least 1, got {args.pairs}")
    return args


def _method_runner(name, args):
    """A function (source, model, diameter, seed) -> 4x4 pose for the named method."""
    if name in OURS:
        from ..model import checkpoint
        from ..pipeline import estimate_pose

        if name == "ours_one_shot":
            # Never the diffusion network run once: the baseline is the network trained one-shot.
            ckpt = args.one_shot_checkpoint or checkpoint.one_shot_checkpoint_path()
            kw = dict(diffusion=False, refine=False, starts=1)
        elif name == "ours_diffusion":
            ckpt, kw = args.checkpoint, dict(diffusion=True, refine=False, starts=1)
        else:
            ckpt, kw = args.checkpoint, dict(diffusion=True, refine=True)
        return lambda s, m, d, seed: estimate_pose(s, m, checkpoint_path=ckpt, seed=seed, **kw).transformation
    from . import baselines

    return lambda s, m, d, seed: baselines.run(name, s, m, d, seed=seed)


def available_methods(args):
    methods = list(OURS)
    try:
        from . import baselines

        baselines._o3d()
        methods += list(baselines.BASELINES)
    except ImportError as exc:
        print(f"note: skipping the Open3D baselines ({exc})", file=sys.stderr)
    return methods


def plot_recall(per_setting, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(per_setting)
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.2), sharey=True, squeeze=False)
    grid = np.linspace(0, 30, 121)
    for ax, setting in zip(axes[0], names):
        for method, rows in per_setting[setting].items():
            err = np.array([r["rotation_error_deg"] for r in rows])
            ax.plot(grid, [100 * np.mean(err < g) for g in grid], label=method)
        ax.set_title(setting, fontsize=9)
        ax.set_xlabel("rotation error threshold (deg)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("recall (%)")
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(summary):
    cols = ["recall_rot_5deg", "recall_rot_10deg", "recall_rot_20deg", "recall_trans_1pct", "recall_trans_2pct",
            "recall_trans_5pct", "add_s_below_0.1", "median_rotation_error_deg", "median_translation_error",
            "mean_one_sided_chamfer", "median_ms"]
    heads = ["R@5°", "R@10°", "R@20°", "t@1%", "t@2%", "t@5%", "ADD-S<0.1", "med rot (°)", "med t (D)",
             "Chamfer (D)", "median ms"]
    lines = []
    for setting, methods in summary.items():
        lines += [f"### {setting}", "", "| method | " + " | ".join(heads) + " |", "|---" * (len(heads) + 1) + "|"]
        for method, s in methods.items():
            vals = [f"{s[c]:.1f}" if c.startswith(("recall", "add_s")) or c == "median_ms" else f"{s[c]:.3g}"
                    for c in cols]
            lines.append(f"| {method} | " + " | ".join(vals) + " |")
        lines.append("")
    return "\n".join(lines)


def evaluate(args):
    from tqdm import tqdm

    os.makedirs(args.out, exist_ok=True)
    methods = args.methods or available_methods(args)
    runners = {m: _method_runner(m, args) for m in methods}
    per_setting, summary = {}, {}
    for item in args.settings:
        setting, _, rotation = item.partition(":")
        rotation = rotation or "so3"
        rows = {m: [] for m in methods}
        bar = tqdm(range(args.pairs), desc=f"{setting}:{rotation}", unit="pair", dynamic_ncols=True)
        for i in bar:
            seed = args.seed * args.pairs + i
            pair = held_out_problem(seed, setting, rotation=rotation, families=args.families)
            for m in methods:
                t0 = time.perf_counter()
                T = runners[m](pair["source"], pair["model"], pair["diameter"], seed)
                row = metrics.evaluate_one(pair["source"], pair["model"], T, pair["T_gt"], pair["diameter"])
                row["seconds"] = time.perf_counter() - t0
                rows[m].append(row)
        per_setting[item] = rows
        summary[item] = {m: metrics.summarise(r) for m, r in rows.items()}
        print(markdown({item: summary[item]}))
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump({"summary": summary, "rows": per_setting, "args": vars(args)}, f, indent=1)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(markdown(summary))
    plot_recall(per_setting, os.path.join(args.out, "recall.png"))
    print(f"wrote {args.out}/metrics.json, results.md, recall.png")
    return summary


def main(argv=None):
    evaluate(parse_args(sys.argv[1:] if argv is None else argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
