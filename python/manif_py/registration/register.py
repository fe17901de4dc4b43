"""``manif-py register SCAN MODEL``: the 6D pose of a scanned object.

    manif-py register scan.ply model.obj --json pose.json --plot pose.png

Prints the 4x4 pose that maps the scan into the model's frame, the fitness
(fraction of scan points within the inlier distance of the model) and the
inlier RMSE. Meshes (.obj, .off, .stl, .ply with faces) are sampled into clouds.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def load_cloud(path: str, n_mesh_points: int = 20000, seed: int = 0) -> np.ndarray:
    """Points (N, 3) from a point-cloud file, or ``n_mesh_points`` area-uniform
    samples of a mesh file (a file with faces)."""
    from . import io

    return np.asarray(io.load_point_cloud(path, n_points=None, mesh_points=n_mesh_points, seed=seed).points)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="manif-py register", description=__doc__.split("\n\n")[0])
    p.add_argument("scan", help="the partial scan (.ply .pcd .xyz .obj .off .stl)")
    p.add_argument("model", help="the object's model, a cloud or a mesh, in the same units")
    p.add_argument("--json", metavar="PATH", help="write the pose and scores as JSON")
    p.add_argument("--plot", metavar="PNG", help="write a before/after picture")
    p.add_argument("--no-refine", action="store_true", help="skip the point-to-plane ICP refinement")
    p.add_argument("--one-shot", action="store_true", help="one network call instead of the reverse diffusion")
    p.add_argument("--noise", action="store_true",
                   help="inject the posterior noise into the reverse diffusion (off by default: it did worse on "
                        "validation problems)")
    p.add_argument("--starts", type=int, default=24, help="start rotations screened, 1 to 24 (default 24)")
    p.add_argument("--checkpoint", help="a network from `manif-py train-registration` (default: the shipped one)")
    p.add_argument("--inlier-distance", type=float, help="default: 2%% of the model's diameter")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--method", choices=("diffusion", "staged"), default="diffusion",
                   help="diffusion: the network (default); staged: PPF hypotheses, ICP, verification")
    p.add_argument("--model-cache", metavar="NPZ",
                   help="the prepared model for --method staged (implies it): loaded if present, else created")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from .pipeline import estimate_pose
    from .plots import plot_registration

    try:
        scan, model = load_cloud(args.scan), load_cloud(args.model)
        result = estimate_pose(scan, model, checkpoint_path=args.checkpoint, refine=not args.no_refine,
                               diffusion=not args.one_shot, noise=args.noise, starts=args.starts,
                               seed=args.seed, inlier_distance=args.inlier_distance, method=args.method,
                               model_cache=args.model_cache)
    except (ValueError, TypeError, OSError) as exc:  # bad files or clouds: a message, not a traceback
        print(f"manif-py register: error: {exc}", file=sys.stderr)
        return 2
    with np.printoptions(precision=6, suppress=True):
        print("pose (scan -> model):")
        print(result.transformation)
    print(f"fitness {result.fitness:.4f}   inlier RMSE {result.inlier_rmse:.6g}   "
          f"(inlier distance {result.inlier_distance:.4g})   {1000 * result.seconds:.0f} ms")
    if result.stage_seconds:  # the staged method: where the time went, and how clear the winner was
        print("stages: " + ", ".join(f"{k} {1000 * v:.0f} ms" for k, v in result.stage_seconds.items())
              + f"   margin to the second-best distinct pose {result.margin:.3f}   confident {result.confident}")
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"scan": args.scan, "model": args.model, **result.to_dict()}, f, indent=2)
        print(f"wrote {args.json}")
    if args.plot:
        plot_registration(scan, model, result.transformation, args.plot,
                          title=f"{args.scan} -> {args.model}: fitness {result.fitness:.2f}")
        print(f"wrote {args.plot}")
    return 0 if result.confident else 3


if __name__ == "__main__":
    sys.exit(main())
