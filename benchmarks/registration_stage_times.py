"""Where the staged registration's time goes, per stage, on the realistic inputs.

    python benchmarks/registration_stage_times.py --trials 2          # 2 problems per object and setting
    python benchmarks/registration_stage_times.py --threads 1         # one C++ thread

Prints, per setting, the median seconds of model preparation (once per object),
the global stage, ICP and verification, and the pose's success / confidence, on
the same problems as bench_registration_realistic.py (realistic_inputs.py).
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
    args = p.parse_args(argv)
    if args.trials < 1:
        p.error("argument --trials: expected a positive count")

    import manif_py
    from manif_py.registration.prepared import prepare_model
    from manif_py.registration.staged import staged_registration

    if args.threads:
        manif_py.set_num_threads(args.threads)
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
                rows.append(dict(setting=setting, prep=prep, call=call, ok=ok, confident=res.confident,
                                 wrong_confident=res.confident and (rot > 10 or trans > 0.1), **res.stage_seconds))
                print(f"{name:10s} {setting:8s} {trial}: {1e3 * call:6.0f} ms "
                      + " ".join(f"{k} {1e3 * v:5.0f}" for k, v in res.stage_seconds.items())
                      + f"  rot {rot:6.1f} deg  ok {ok}  confident {res.confident}", file=sys.stderr)
    stages = [k for k in rows[0] if k not in ("setting", "prep", "call", "ok", "confident", "wrong_confident")]
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


if __name__ == "__main__":
    main()
