"""Registration on realistic inputs: manif_py's estimate_pose against tuned peers, same run, same inputs.

    bash benchmarks/setup_peers.sh     # once: open3d, small-gicp, opencv-contrib-python, assimp-testmodels
    python benchmarks/bench_registration_realistic.py --quick            # a few problems, to check it runs
    python benchmarks/bench_registration_realistic.py --trials 30        # 30 problems per setting
    python benchmarks/bench_registration_realistic.py --busy --trials 15 # with one core kept busy
    python benchmarks/bench_registration_realistic.py --methods ours,o3d_ransac \\
        --variants "no_diffusion:diffusion=False;one_start:starts=1"

Inputs (realistic_inputs.py): dense models of 10,000 samples of real meshes, scans of
3,000-4,000 points at uniform random rotations over SO(3) and translations up to half
the diameter, in three settings (crop, view, clutter). Methods (realistic_methods.py):
ours, a tuned Open3D RANSAC + FPFH + ICP, Open3D FGR + ICP, the RANSAC refined by
small_gicp, OpenCV's PPF matcher. Success: rotation error < 5 degrees and translation
error < 5% of the diameter.

Writes to --out (default benchmarks/out/realistic): results.md (also printed),
rows.json (every trial), recall_vs_time.png. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import realistic_inputs as inputs  # noqa: E402
import realistic_methods as methods  # noqa: E402
from _common import OUT, machine_info, markdown_table  # noqa: E402

SUCCESS_DEG, SUCCESS_FRACTION = 5.0, 0.05
WRONG_DEG, WRONG_FRACTION = 10.0, 0.10  # "confidently wrong" is judged at twice the success bounds
REFERENCE = "o3d_ransac"
SCALING_SIZES = (1_000, 10_000, 100_000)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=30, help="problems per setting, spread over the objects (default 30)")
    p.add_argument("--quick", action="store_true", help="2 problems per setting, scaling on 1 problem (a smoke run)")
    p.add_argument("--methods", default=",".join(methods.ALL_METHODS),
                   help=f"comma-separated, from {','.join(methods.ALL_METHODS)} (default: all)")
    p.add_argument("--variants", default="",
                   help="named estimate_pose options run as extra methods: 'name:key=value,...;name2:key=value'")
    p.add_argument("--objects", default=",".join(inputs.MESHES), help=f"from {','.join(inputs.MESHES)}")
    p.add_argument("--settings", default=",".join(inputs.SETTINGS), help=f"from {','.join(inputs.SETTINGS)}")
    p.add_argument("--seed", type=int, default=0, help="seed of every problem (default 0)")
    p.add_argument("--busy", action="store_true", help="keep one core busy with another process during the run")
    p.add_argument("--scaling-trials", type=int, default=3,
                   help="problems per model size (1k/10k/100k points) for the size scaling; 0 skips it")
    p.add_argument("--repeat-check", type=int, default=2,
                   help="problems per setting run a second time, to check that the poses repeat (default 2)")
    p.add_argument("--out", type=Path, default=OUT / "realistic", help="output folder")
    args = p.parse_args(argv)
    if args.trials < 1:
        p.error(f"argument --trials: expected a positive count, got {args.trials}")
    if args.repeat_check < 0:
        p.error(f"argument --repeat-check: expected 0 or more, got {args.repeat_check}")
    if args.scaling_trials < 0:
        p.error(f"argument --scaling-trials: expected 0 or more, got {args.scaling_trials}")
    if args.quick:
        args.trials, args.scaling_trials = min(args.trials, 2), min(args.scaling_trials, 1)
    args.method_names = [m for m in args.methods.split(",") if m]
    args.object_names = [o for o in args.objects.split(",") if o]
    args.setting_names = [s for s in args.settings.split(",") if s]
    for name, given, allowed in (("--objects", args.object_names, inputs.MESHES),
                                 ("--settings", args.setting_names, inputs.SETTINGS)):
        bad = [g for g in given if g not in allowed]
        if bad or not given:
            p.error(f"argument {name}: unknown {bad or 'empty list'}; expected some of {','.join(allowed)}")
    try:
        args.variant_options = methods.parse_variants(args.variants)
    except ValueError as exc:
        p.error(str(exc))
    return args


# ----------------------------------------------------------------------------- a busy core


def start_busy_process():
    """Another process spinning on one core until this one ends."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    atexit.register(lambda: proc.poll() is None and proc.kill())
    return proc


# ----------------------------------------------------------------------------- running


def run_one(method, problem, model, state, prep_seconds):
    """One trial's row: errors, success, times (full = preparation + call; cached = call alone)."""
    row = {"method": method.name, "object": problem.object_name, "setting": problem.setting, "trial": problem.trial,
           "scan_points": len(problem.scan)}
    t0 = time.perf_counter()
    try:
        if method.prepare_per_trial:
            state = method.prepare(model, problem.diameter)
            prep_seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        out = method.register(problem.scan, state)
        t2 = time.perf_counter()
    except Exception as exc:  # a method that raises has failed this trial; the run goes on
        row.update(error=f"{type(exc).__name__}: {str(exc)[:200]}", success=False, rot_deg=None, trans=None,
                   seconds=time.perf_counter() - t0, cached_seconds=None, confident=None)
        return row
    rot, trans = inputs.pose_errors(out.T, problem.T_true, problem.diameter)
    call = t2 - t1
    row.update(rot_deg=rot, trans=trans, success=bool(rot < SUCCESS_DEG and trans < SUCCESS_FRACTION),
               wrong=bool(rot > WRONG_DEG or trans > WRONG_FRACTION), seconds=prep_seconds + call,
               cached_seconds=None if method.prepare_is_part_of_call else call,
               confident=out.confident, fitness=out.fitness, T=np.asarray(out.T).tolist())
    return row


def run_problems(method_list, problems, objects, progress):
    """Every method on every problem; methods that prepare once are prepared (and timed) once per
    object and model, and that preparation is reused by later calls. The methods take turns on
    each problem, so that a change of the machine's load over the run hits them alike."""
    rows = []
    for problem in problems:
        obj = objects[problem.object_name]
        for method in method_list:
            state, prep = None, 0.0
            if not method.prepare_per_trial:
                cache = method.__dict__.setdefault("prepared_once", {})
                key = (obj.name, len(obj.model))
                if key not in cache:
                    t0 = time.perf_counter()
                    cache[key] = (method.prepare(obj.model, obj.diameter), time.perf_counter() - t0)
                    progress.write(f"   {method.name}: model '{obj.name}' prepared in {cache[key][1]:.1f} s")
                state, prep = cache[key]
            rows.append(run_one(method, problem, obj.model, state, prep))
            progress.update(1)
    return rows


def warm_up(method_list, obj, seed):
    """One untimed call per method (the network's load, Open3D's first-use costs)."""
    problem = inputs.make_problem(obj, "crop", trial=10**6, seed=seed)
    for method in method_list:
        if method.prepare_per_trial:
            try:
                method.register(problem.scan, method.prepare(obj.model, obj.diameter))
            except Exception:  # noqa: BLE001 - reported by the timed trials
                pass


def repeat_check(method_list, problems, objects, rows, per_setting, tqdm):
    """{method: (poses repeated to 1e-9, problems rerun)}: the same inputs a second time."""
    again = [p for s in dict.fromkeys(p.setting for p in problems)
             for p in [q for q in problems if q.setting == s][:per_setting]]
    first = {(r["method"], r["setting"], r["trial"]): r for r in rows}
    out = {}
    with tqdm(total=len(again) * len(method_list), desc="repeat", file=sys.stderr, dynamic_ncols=True) as progress:
        for r in run_problems(method_list, again, objects, progress):
            before = first[(r["method"], r["setting"], r["trial"])]
            same = "T" in r and "T" in before and np.abs(np.subtract(r["T"], before["T"])).max() < 1e-9
            n_same, n = out.get(r["method"], (0, 0))
            out[r["method"]] = (n_same + bool(same), n + 1)
    return out


# ----------------------------------------------------------------------------- statistics


def pct(values, q):
    vals = [v for v in values if v is not None]
    return float(np.percentile(vals, q)) if vals else None


def summarise(rows):
    """{(setting, method): stats}."""
    groups = {}
    for r in rows:
        groups.setdefault((r["setting"], r["method"]), []).append(r)
    stats = {}
    for key, rs in groups.items():
        ok = [r for r in rs if r["success"]]
        judged = [r for r in rs if r.get("confident") is not None]
        stats[key] = {
            "n": len(rs), "success": len(ok) / len(rs), "errors": sum("error" in r for r in rs),
            "median": pct([r["seconds"] for r in rs], 50), "p90": pct([r["seconds"] for r in rs], 90),
            "median_cached": pct([r["cached_seconds"] for r in rs], 50),
            "p90_cached": pct([r["cached_seconds"] for r in rs], 90),
            "judged": len(judged),
            "confident_wrong": sum(bool(r["confident"]) and r.get("wrong", False) for r in judged),
            # None where no judged pose was right: a share of nothing is not 0%.
            "confident_right_share": (sum(bool(r["confident"]) for r in judged if r["success"])
                                      / sum(r["success"] for r in judged)) if any(r["success"] for r in judged)
            else None,
        }
    return stats


def ms(x):
    return "n/a" if x is None else f"{1e3 * x:,.0f}"


def ratio(a, b):
    return "n/a" if a is None or not b else f"{a / b:.2f}x"


def results_table(stats, settings, names):
    header = ["setting", "method", "success", "median ms", "p90 ms", "cached median ms", "cached p90 ms",
              f"median / {REFERENCE}", f"cached median / {REFERENCE}", "errors"]
    rows = []
    for s in settings:
        ref = stats.get((s, REFERENCE), {}).get("median")
        for m in names:
            st = stats.get((s, m))
            if st is None:
                continue
            rows.append([s, m, f"{100 * st['success']:.0f}% ({round(st['success'] * st['n'])}/{st['n']})",
                         ms(st["median"]), ms(st["p90"]), ms(st["median_cached"]), ms(st["p90_cached"]),
                         ratio(st["median"], ref), ratio(st["median_cached"], ref), str(st["errors"])])
    return markdown_table(header, rows)


def confidence_table(stats, settings, names):
    header = ["setting", "method", "confident and wrong (>10 deg or >10%)", "right poses marked confident"]
    rows = []
    for m in names:
        for s in settings:
            st = stats.get((s, m))
            if st and st["judged"]:
                share = st["confident_right_share"]
                rows.append([s, m, f"{st['confident_wrong']}/{st['judged']}",
                             "n/a" if share is None else f"{100 * share:.0f}%"])
    return markdown_table(header, rows) if rows else "(no method in this run reports a confidence)"


def overall(rows, names):
    """Success over all settings and median time per method, one line each."""
    lines = []
    for m in names:
        rs = [r for r in rows if r["method"] == m]
        if rs:
            lines.append(f"- {m}: success {100 * np.mean([r['success'] for r in rs]):.1f}% of {len(rs)}, "
                         f"median {ms(pct([r['seconds'] for r in rs], 50))} ms, "
                         f"cached median {ms(pct([r['cached_seconds'] for r in rs], 50))} ms")
    return "\n".join(lines)


def scaling_table(rows, names):
    header = ["method"] + [f"model {n // 1000}k: median ms / cached ms / success" for n in SCALING_SIZES]
    out = []
    for m in names:
        cells = []
        for n in SCALING_SIZES:
            rs = [r for r in rows if r["method"] == m and r["model_points"] == n]
            cells.append("n/a" if not rs else
                         f"{ms(pct([r['seconds'] for r in rs], 50))} / {ms(pct([r['cached_seconds'] for r in rs], 50))}"
                         f" / {sum(r['success'] for r in rs)}/{len(rs)}")
        if any(c != "n/a" for c in cells):
            out.append([m, *cells])
    return markdown_table(header, out)


def plot(stats, settings, names, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(1, len(settings), figsize=(5 * len(settings), 4.2), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, s in zip(axes[0], settings):
        for i, m in enumerate(names):
            st = stats.get((s, m))
            if st is None or st["median"] is None:
                continue
            c = colours[i % len(colours)]
            ax.scatter(1e3 * st["median"], 100 * st["success"], color=c, label=m, s=50)
            if st["median_cached"] is not None:  # hollow marker: the same method with the model cached
                ax.scatter(1e3 * st["median_cached"], 100 * st["success"], facecolors="none", edgecolors=c, s=50)
                ax.plot([1e3 * st["median_cached"], 1e3 * st["median"]], [100 * st["success"]] * 2, color=c, lw=0.8)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # minor labels overlap on a log axis
        ax.set_xlabel("median time per scan, ms (hollow: model cached)")
        ax.set_ylabel("success, % (5 deg, 5% of diameter)")
        ax.set_ylim(-3, 103)
        ax.set_title(s)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- main


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from tqdm import tqdm

    busy = start_busy_process() if args.busy else None
    try:
        return run(args, tqdm)
    except (ValueError, FileNotFoundError) as exc:  # a bad option or a missing mesh: say which, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()


def run(args, tqdm):
    t_start = time.time()
    load_start = os.getloadavg()
    method_list = methods.make_methods(args.method_names, args.variant_options, seed=args.seed)
    names = [m.name for m in method_list]
    objects = {n: inputs.load_object(n, seed=args.seed) for n in args.object_names}
    problems = [inputs.make_problem(objects[args.object_names[i % len(objects)]], s, i, args.seed)
                for s in args.setting_names for i in range(args.trials)]
    warm_up(method_list, objects[args.object_names[0]], args.seed)

    total = len(problems) * len(method_list)
    with tqdm(total=total, desc="registration", file=sys.stderr, dynamic_ncols=True) as progress:
        rows = run_problems(method_list, problems, objects, progress)

    repeats = repeat_check(method_list, problems, objects, rows, args.repeat_check, tqdm)

    scaling_rows = []
    if args.scaling_trials:
        # PPF's training cost is set by its sampling step, not by the model's size: left out here.
        scaled_methods = [m for m in method_list if m.prepare_per_trial]
        first = args.object_names[0]
        with tqdm(total=len(SCALING_SIZES) * args.scaling_trials * len(scaled_methods), desc="model size",
                  file=sys.stderr, dynamic_ncols=True) as progress:
            for n in SCALING_SIZES:
                obj = inputs.load_object(first, model_points=n, seed=args.seed)
                probs = [inputs.make_problem(obj, "crop", i, args.seed) for i in range(args.scaling_trials)]
                for r in run_problems(scaled_methods, probs, {first: obj}, progress):
                    r["model_points"] = n
                    scaling_rows.append(r)

    stats = summarise(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    plot(stats, args.setting_names, names, args.out / "recall_vs_time.png")
    info = machine_info()
    report = "\n".join([
        "## Registration on realistic inputs" + (" (one core kept busy by another process)" if args.busy else ""),
        "",
        f"`python benchmarks/bench_registration_realistic.py {' '.join(sys.argv[1:])}`  ",
        f"{info['date']}, {info['cpu']}, {info['cores']} cores, Python {info['python']}; "
        f"load average {load_start[0]:.2f} at start, {os.getloadavg()[0]:.2f} at end; "
        f"{time.time() - t_start:.0f} s in all.  ",
        f"Objects: {', '.join(args.object_names)} (assimp-testmodels meshes), {inputs.MODEL_POINTS:,}-point models; "
        f"{args.trials} problems per setting; seed {args.seed}. Success: < {SUCCESS_DEG:g} deg and "
        f"< {100 * SUCCESS_FRACTION:g}% of the diameter. Times: preparation of the model included; "
        "'cached' is the call alone with the model prepared beforehand (n/a where the method has no separate step).",
        "",
        results_table(stats, args.setting_names, names),
        "",
        "Over all settings:",
        overall(rows, names),
        "",
        "Confidence (methods that give a verdict):",
        "",
        confidence_table(stats, args.setting_names, names),
        "",
        f"Determinism: the first {args.repeat_check} problems of each setting run again in the same process; "
        "poses equal to 1e-9:",
        "",
        "\n".join(f"- {m}: {same}/{n} repeated" for m, (same, n) in repeats.items()) or "(not checked)",
    ])
    if scaling_rows:
        report += ("\n\nModel size (crop setting, object '" + args.object_names[0] + f"', {args.scaling_trials} "
                   "problems per size; cv_ppf left out: its training is set by its sampling step):\n\n"
                   + scaling_table(scaling_rows, [m.name for m in method_list if m.prepare_per_trial]))
    (args.out / "results.md").write_text(report + "\n")
    (args.out / "rows.json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                    "machine": info, "rows": rows, "scaling": scaling_rows},
                                                   indent=1))
    print(report)
    print(f"\nwritten: {args.out / 'results.md'}, {args.out / 'rows.json'}, {args.out / 'recall_vs_time.png'}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # the traceback, then a non-zero exit (atexit kills a busy process)
        traceback.print_exc()
        sys.exit(1)
