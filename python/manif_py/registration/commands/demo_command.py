"""``manif-py demo``: estimate the 6D pose of a generated object from a partial, noisy scan.

Everything is made on the spot, with no download: an object from the shape
families held out of training, a single-view scan of it (hidden-point removal
from a random viewpoint, Gaussian noise, a random pose over all of SO(3)), the
registration with the shipped network, and a before/after picture.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def main(argv=None):
    p = argparse.ArgumentParser(prog="manif-py demo", description=__doc__.split("\n\n")[0])
    # Problem 0 is an L-bracket: no rotational symmetry, so the rotation error
    # against the truth means what it says (for a bolt or a turned part it would not).
    p.add_argument("--seed", type=int, default=0, help="which generated object and scan")
    p.add_argument("--setting", default="single_view", choices=("clean", "noisy", "partial", "single_view"))
    p.add_argument("--threads", type=int, default=0, metavar="N",
                   help="threads for torch and the C++ kernels together (default 0: the cores not busy now)")
    p.add_argument("--out", "--plot", dest="out", default="manif_py_demo.png", metavar="PNG",
                   help="where to write the picture (default manif_py_demo.png)")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if args.threads < 0:
        p.error("--threads must be >= 0")
    import manif_py

    manif_py.set_num_threads(args.threads)

    from ..evaluation import metrics
    from ..synthetic.dataset import held_out_problem
    from ..pipeline import estimate_pose
    from ..evaluation.plots import plot_registration

    pair = held_out_problem(args.seed, args.setting, rotation="so3")
    scan, model, T_gt, D = pair["source"], pair["model"], pair["T_gt"], pair["diameter"]
    print(f"object: {pair['name']} (a shape family never seen in training), diameter {D:.3f}")
    print(f"scan: {len(scan)} points ({args.setting.replace('_', ' ')}, noisy), model: {len(model)} points; "
          f"true rotation {metrics.rotation_error_deg(np.eye(4), T_gt):.1f} deg")
    result = estimate_pose(scan, model, seed=args.seed)
    with np.printoptions(precision=4, suppress=True):
        print("estimated pose (scan -> model):")
        print(result.transformation)
    errors = metrics.evaluate_one(scan, model, result.transformation, T_gt, D)
    rot, tra, add_s = errors["rotation_error_deg"], errors["translation_error"], errors["add_s"]
    print(f"fitness {result.fitness:.3f}, inlier RMSE {result.inlier_rmse:.4f}, {1000 * result.seconds:.0f} ms")
    print(f"error against the truth: rotation {rot:.2f} deg, translation {100 * tra:.2f}% of the diameter, "
          f"ADD-S {100 * add_s:.2f}% of the diameter")
    if add_s < 0.02 and rot > 5:
        print("(the surfaces coincide: the object is symmetric, and the pose found is one of its symmetric twins)")
    for w in result.warnings:
        print(f"warning: {w}")
    plot_registration(scan, model, result.transformation, args.out,
                      title=f"{pair['family']} part, {args.setting.replace('_', ' ')} scan: rotation error "
                            f"{rot:.2f} deg, translation error {100 * tra:.2f}% of its size")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
