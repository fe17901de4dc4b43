"""Where the staged registration's time goes, per stage, on the realistic inputs.

    python benchmarks/registration_stage_times.py --trials 2          # 2 problems per object and setting
    python benchmarks/registration_stage_times.py --threads 1         # one C++ thread
    python benchmarks/registration_stage_times.py --baseline          # and the tuned Open3D RANSAC, same problems

Prints, per setting, the median seconds of model preparation (once per object),
the global stage, ICP and verification, and the pose's success / confidence, on
the same problems as bench_registration_realistic.py (realistic_inputs.py). With
--baseline, realistic_methods.O3DRansac (features of the model recomputed per call,
as users run it) takes turns with ours on every problem, and the medians' ratios
are printed: ours with the preparation of the model added to every call, and cached.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import realistic_inputs as inputs  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=2, help="problems per object and setting (default 2)")
    p.add_argument("--objects", default=",".join(inputs.MESHES))
    p.add_argument("--settings", default=",".join(inputs.SETTINGS))
    p.add_argument("--threads", type=int, default=0, help="manif_py.set_num_threads (0: the package default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--baseline", action="store_true", help="also time the tuned Open3D RANSAC + FPFH + ICP")
    args = p.parse_args(argv)
    if args.trials < 1:
        p.error("argument --trials: expected a positive count")

    import manif_py
    from manif_py.registration.prepared import prepare_model
    from manif_py.registration.staged import staged_registration

    if args.threads:
        manif_py.set_num_threads(args.threads)
    baseline = None
    if args.baseline:
        import realistic_methods

        baseline = realistic_methods.O3DRansac(args.seed)
    rows = []
    for name in filter(None, args.objects.split(",")):
        obj = inputs.load_object(name, seed=args.seed)
        t0 = time.perf_counter()
        prepared = prepare_model(obj.model)
        prep = time.perf_counter() - t0
        for setting in filter(None, args.settings.split(",")):
            for trial in range(args.trials):
                pr = inputs.make_problem(obj, setting, trial, args.seed)
                t0 = time.perf_counter()
                res = staged_registration(pr.scan, prepared, seed=args.seed)
                call = time.perf_counter() - t0
                rot, trans = inputs.pose_errors(res.transformation, pr.T_true, pr.diameter)
                ok = rot < 5 and trans < 0.05
                row = dict(setting=setting, prep=prep, call=call, ok=ok, confident=res.confident,
                           wrong_confident=res.confident and (rot > 10 or trans > 0.1), **res.stage_seconds)
                if baseline is not None:
                    t0 = time.perf_counter()
                    out = baseline.register(pr.scan, baseline.prepare(obj.model, obj.diameter))
                    row["o3d"] = time.perf_counter() - t0
                    b_rot, b_trans = inputs.pose_errors(out.T, pr.T_true, pr.diameter)
                    row["o3d_ok"] = b_rot < 5 and b_trans < 0.05
                rows.append(row)
                print(f"{name:10s} {setting:8s} {trial}: {1e3 * call:6.0f} ms "
                      + " ".join(f"{k} {1e3 * v:5.0f}" for k, v in res.stage_seconds.items())
                      + f"  rot {rot:6.1f} deg  ok {ok}  confident {res.confident}", file=sys.stderr)
    stages = [k for k in rows[0] if k not in ("setting", "prep", "call", "ok", "confident", "wrong_confident",
                                              "o3d", "o3d_ok")]
    print("| setting | n | prepare ms (once) | call ms | " + " | ".join(f"{s} ms" for s in stages)
          + " | success | confident of right | confident wrong |")
    print("|" + "---|" * (7 + len(stages)))
    for setting in [*dict.fromkeys(r["setting"] for r in rows), "all"]:
        rs = [r for r in rows if setting in ("all", r["setting"])]
        med = lambda k: 1e3 * float(np.median([r[k] for r in rs]))  # noqa: E731
        right = [r for r in rs if r["ok"]]
        print(f"| {setting} | {len(rs)} | {med('prep'):.0f} | {med('call'):.0f} | "
              + " | ".join(f"{med(s):.0f}" for s in stages)
              + f" | {len(right)}/{len(rs)} | {sum(r['confident'] for r in right)}/{len(right)} | "
              f"{sum(r['wrong_confident'] for r in rs)} |")
    if baseline is not None:
        print("\n| setting | o3d_ransac ms | o3d success | ours (prepare + call) / o3d | ours cached / o3d |")
        print("|---|---|---|---|---|")
        for setting in [*dict.fromkeys(r["setting"] for r in rows), "all"]:
            rs = [r for r in rows if setting in ("all", r["setting"])]
            o3d = float(np.median([r["o3d"] for r in rs]))
            full = float(np.median([r["prep"] + r["call"] for r in rs]))
            cached = float(np.median([r["call"] for r in rs]))
            print(f"| {setting} | {1e3 * o3d:.0f} | {sum(r['o3d_ok'] for r in rs)}/{len(rs)} | "
                  f"{full / o3d:.2f}x | {cached / o3d:.2f}x |")


if __name__ == "__main__":
    main()
