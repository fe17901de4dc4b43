"""``manif-py register SCAN... MODEL``: the 6D pose of scanned objects.

    manif-py register scan.ply model.obj --json pose.json --plot pose.png
    manif-py register scans/*.ply model.obj --jsonl poses.jsonl

Prints the 4x4 pose that maps each scan into the model's frame, the fitness
(fraction of scan points within the inlier distance of the model) and the
inlier RMSE. Meshes (.obj, .off, .stl, .ply with faces) are sampled into clouds.
With several scans the model is read and prepared once, a progress bar runs on
stderr, and --jsonl writes one JSON line per scan.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

EPILOG = """exit status:
  0  every scan registered and confident
  2  bad arguments, an unreadable or refused model, or at least one scan that failed
     (unreadable, refused: its --jsonl line carries the error)
  3  every scan registered, but at least one result is flagged not confident"""


def load_cloud(path: str, n_mesh_points: int = 20000, seed: int = 0, drop_invalid: bool = False):
    """Points (N, 3) from a point-cloud file, or ``n_mesh_points`` area-uniform samples of a
    mesh file (a file with faces); with the count of NaN/inf points dropped (drop_invalid)."""
    from ...pointcloud import load_point_cloud

    cloud = load_point_cloud(path, n_points=None, mesh_points=n_mesh_points, seed=seed, drop_invalid=drop_invalid)
    return np.asarray(cloud.points), cloud.dropped


def parse_args(argv):
    p = argparse.ArgumentParser(prog="manif-py register", description=__doc__.split("\n\n")[0], epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("clouds", nargs="+", metavar="SCAN... MODEL",
                   help="one or more scans (.ply .pcd .xyz .obj .off .stl), then the object's model (a cloud or a "
                        "mesh, in the same units)")
    p.add_argument("--json", metavar="PATH", help="write the pose and scores as JSON (one scan only)")
    p.add_argument("--jsonl", metavar="OUT", help="write one JSON line per scan: path, pose, fitness, confident, error")
    p.add_argument("--plot", metavar="PNG", help="write a before/after picture (one scan only)")
    p.add_argument("--drop-invalid", action="store_true",
                   help="drop points with NaN/inf coordinates (and say how many) instead of refusing the file")
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
                   help="diffusion: the network (default); staged: PPF hypotheses, ICP, verification, no network")
    p.add_argument("--model-cache", metavar="NPZ",
                   help="the prepared model for --method staged (implies it): loaded if present, else created")
    p.add_argument("--threads", type=int, default=0, metavar="N",
                   help="threads for torch and the C++ kernels together (default 0: the cores not busy now)")
    args = p.parse_args(argv)
    if len(args.clouds) < 2:
        p.error("need at least one scan and the model: SCAN... MODEL")
    if args.threads < 0:
        p.error("--threads must be >= 0")
    if not 1 <= args.starts <= 24:
        p.error(f"--starts must be between 1 and 24, got {args.starts}")
    if args.inlier_distance is not None and not (np.isfinite(args.inlier_distance) and args.inlier_distance > 0):
        p.error(f"--inlier-distance must be a finite positive distance, got {args.inlier_distance}")
    args.scans, args.model = args.clouds[:-1], args.clouds[-1]
    if len(args.scans) > 1 and (args.json or args.plot):
        p.error("--json and --plot take one scan; use --jsonl for several")
    # Output paths are checked before the work, not found wanting after it.
    for flag, path in (("--json", args.json), ("--jsonl", args.jsonl), ("--plot", args.plot)):
        if path is not None:
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                p.error(f"{flag}: the folder of {path} does not exist")
            if not os.access(folder, os.W_OK):
                p.error(f"{flag}: cannot write into the folder of {path}")
    return args


def _print_result(result):
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


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import manif_py

    manif_py.set_num_threads(args.threads)
    from ..many_scans import estimate_poses

    options = dict(checkpoint_path=args.checkpoint, refine=not args.no_refine, diffusion=not args.one_shot,
                   noise=args.noise, starts=args.starts, seed=args.seed, inlier_distance=args.inlier_distance,
                   method=args.method, model_cache=args.model_cache)
    try:
        model, dropped = load_cloud(args.model, drop_invalid=args.drop_invalid)
        if dropped:
            print(f"{args.model}: dropped {dropped} points with NaN/inf coordinates", file=sys.stderr)
    except (ValueError, TypeError, OSError) as exc:  # bad files: a message, not a traceback
        print(f"manif-py register: error: {exc}", file=sys.stderr)
        return 2

    several = len(args.scans) > 1
    clouds = {}

    def scans():  # read lazily, so that one bad file fails alone and memory holds one scan
        for path in args.scans:
            try:
                points, dropped = load_cloud(path, drop_invalid=args.drop_invalid)
            except (ValueError, TypeError, OSError) as exc:
                clouds[path] = exc
                continue
            if dropped:
                print(f"{path}: dropped {dropped} points with NaN/inf coordinates", file=sys.stderr)
            clouds[path] = points
            yield path, points

    # Unreadable scans never reach estimate_poses; readable ones go through it in order.
    progress = None
    if several:
        from tqdm import tqdm

        progress = lambda it: tqdm(it, total=len(args.scans), desc="register", unit="scan", file=sys.stderr)  # noqa: E731
    readable = []

    def points():
        for path, pts in scans():
            readable.append(path)
            yield pts

    try:  # the model is checked and its normals computed once, in estimate_poses
        registered = estimate_poses(points(), model, errors="keep", progress=progress, **options)
        results = dict(zip(readable, registered))
    except (ValueError, TypeError) as exc:  # the model itself refused
        print(f"manif-py register: error: {exc}", file=sys.stderr)
        return 2

    failed, unsure = 0, 0
    out = open(args.jsonl, "w") if args.jsonl else None
    try:
        for path in args.scans:
            result = results.get(path, clouds.get(path))
            line = {"scan": path, "model": args.model}
            if isinstance(result, BaseException):
                failed += 1
                where = "" if str(result).startswith(path) else f"{path}: "  # readers name the file already
                print(f"manif-py register: error: {where}{result}", file=sys.stderr)
                line.update(pose=None, fitness=None, confident=False, error=str(result))
            else:
                unsure += not result.confident
                if several:
                    print(f"{path}: fitness {result.fitness:.4f}  confident {result.confident}  "
                          f"{1000 * result.seconds:.0f} ms")
                else:
                    _print_result(result)
                line.update(pose=result.transformation.tolist(), fitness=result.fitness,
                            inlier_rmse=result.inlier_rmse, confident=result.confident,
                            warnings=result.warnings, seconds=result.seconds, margin=result.margin,
                            error=None)
            if out:
                out.write(json.dumps(line) + "\n")
    finally:
        if out:
            out.close()
    if args.jsonl:
        print(f"wrote {args.jsonl}")
    if not several and not failed:
        result = results[args.scans[0]]
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"scan": args.scans[0], "model": args.model, **result.to_dict()}, f, indent=2)
            print(f"wrote {args.json}")
        if args.plot:
            from ..evaluation.plots import plot_registration

            plot_registration(clouds[args.scans[0]], model, result.transformation, args.plot,
                              title=f"{args.scans[0]} -> {args.model}: fitness {result.fitness:.2f}")
            print(f"wrote {args.plot}")
    if failed:
        return 2
    return 3 if unsure else 0


if __name__ == "__main__":
    sys.exit(main())
