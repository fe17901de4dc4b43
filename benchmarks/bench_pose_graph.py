"""Pose-graph optimisation, manif_py.estimation vs GTSAM, on GTSAM's own data sets.

For every data set both solvers start from the same initial values (those of
manif_py's reader: the file's vertices, or odometry composed in file order when
it has none) with the same prior on the first pose (information 1e6 I), and run
Levenberg-Marquardt with their default settings. Printed side by side: final
chi2 = sum r^T Omega r (GTSAM: 2 x graph.error), iterations, best-of-N wall
time and the ratio ours / GTSAM (< 1: we are faster).

GTSAM's graph is read by GTSAM itself (gtsam.readG2o / load2D) where its
reading means the same problem; the "reader check" column then compares the
chi2 of both readers' graphs at the initial values and at randomly perturbed
ones, which validates ours (including g2o's translation-first vs GTSAM's
rotation-first information order for SE3, off-diagonal blocks included). Where
GTSAM's loader cannot express the problem (sphere2500.txt: no vertices, and
EDGE3 information read rotation-first), GTSAM's graph is built from our arrays
(information permuted to GTSAM's order); a second sphere2500 row runs GTSAM's
own reading of that file for both solvers.

gtsam is optional and never imported by manif_py. When this interpreter lacks
it, the script re-runs itself with a Python of .bench-venv/ that has it.

Usage: python benchmarks/bench_pose_graph.py [--repeats 3] [--only w10000,sphere2500]
"""

import argparse
import glob
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRIOR_INFORMATION = 1e6

# name, file, reader keyword arguments, how GTSAM reads it
DATASETS = [
    ("w100", "w100.graph", {}, "toro2d"),
    ("w10000", "w10000.graph", {}, "toro2d"),
    ("w20000", "w20000.txt", {}, "g2o2d"),
    ("example.graph (BR landmarks)", "example.graph", {}, "toro2d"),
    ("pose2example", "pose2example.txt", {}, "g2o2d"),
    ("Klaus3", "Klaus3.g2o", {}, "g2o3d"),
    ("pose3example-grid", "pose3example-grid.txt", {}, "g2o3d"),
    ("pose3example-offdiagonal", "pose3example-offdiagonal.txt", {}, "g2o3d"),
    ("sphere2500 (TORO order)", "sphere2500.txt", {"edge3_order": "toro"}, "ours"),
    ("sphere2500 (GTSAM's reading)", "sphere2500.txt", {"edge3_order": "gtsam"}, "g2o3d"),
]


def ensure_gtsam():
    """Imports gtsam, or re-executes this script with a .bench-venv Python that has it."""
    try:
        import gtsam  # noqa: F401

        return
    except ImportError:
        pass
    if os.environ.get("MANIF_PY_BENCH_REEXEC"):
        sys.exit("gtsam is not importable (pip install gtsam, or bash benchmarks/setup_peers.sh)")
    for py in sorted(glob.glob(os.path.join(ROOT, ".bench-venv", "*", "bin", "python"))):
        probe = subprocess.run([py, "-c", "import gtsam, manif_py.estimation"], capture_output=True)
        if probe.returncode == 0:
            print(f"(re-running with {py}, which has gtsam)", flush=True)
            env = dict(os.environ, MANIF_PY_BENCH_REEXEC="1")
            sys.exit(subprocess.call([py, *sys.argv], env=env))
    sys.exit("gtsam is not importable here or in .bench-venv/*/ (pip install gtsam)")


# ----------------------------------------------------------------------------- GTSAM side


def gtsam_values(gtsam, data, poses=None):
    """GTSAM Values of our initial estimate (pose ids as keys, landmarks as L(id))."""
    v = gtsam.Values()
    for pid, rep in zip(data.pose_ids.tolist(), data.poses if poses is None else poses):
        v.insert(pid, to_gtsam_pose(gtsam, data, rep))
    for lid, p in zip(data.landmark_ids.tolist(), data.landmarks):
        v.insert(gtsam.symbol("l", lid), gtsam.Point2(*p) if not data.is_3d else gtsam.Point3(*p))
    return v


def to_gtsam_pose(gtsam, data, rep):
    if not data.is_3d:
        return gtsam.Pose2(rep[0], rep[1], np.arctan2(rep[3], rep[2]))
    q = rep[3:7]
    return gtsam.Pose3(gtsam.Rot3.Quaternion(q[3], q[0], q[1], q[2]), gtsam.Point3(*rep[:3]))


def to_gtsam_order(info):
    """(rho, theta) information -> GTSAM Pose3's (rotation, translation) order."""
    p = np.array([3, 4, 5, 0, 1, 2])
    return info[np.ix_(p, p)]


def gtsam_graph_from_data(gtsam, data):
    """GTSAM factors equal to ours, from our parsed arrays."""
    g = gtsam.NonlinearFactorGraph()
    for (i, j), z, info in zip(data.edges.tolist(), data.measurements, data.information):
        if data.is_3d:
            noise = gtsam.noiseModel.Gaussian.Information(to_gtsam_order(info))
            g.add(gtsam.BetweenFactorPose3(i, j, to_gtsam_pose(gtsam, data, z), noise))
        else:
            noise = gtsam.noiseModel.Gaussian.Information(info)
            g.add(gtsam.BetweenFactorPose2(i, j, to_gtsam_pose(gtsam, data, z), noise))
    if len(data.point_edges):
        raise NotImplementedError("point observations have no GTSAM Python factor here")
    for (i, l), (b, r), info in zip(data.range_bearing_edges.tolist(), data.range_bearings,
                                    data.range_bearing_information):
        noise = gtsam.noiseModel.Diagonal.Sigmas(1.0 / np.sqrt(np.diag(info)))
        g.add(gtsam.BearingRangeFactor2D(i, gtsam.symbol("l", l), gtsam.Rot2(b), r, noise))
    return g


def gtsam_graph_from_file(gtsam, path, how):
    if how == "toro2d":
        g, _ = gtsam.load2D(path, None, 0, False, True, gtsam.NoiseFormat.NoiseFormatTORO)
    elif how == "g2o2d":
        g, _ = gtsam.readG2o(path, False)
    else:
        g, _ = gtsam.readG2o(path, True)
    return g


def add_gtsam_prior(gtsam, g, data):
    first = int(data.pose_ids[0])
    pose = to_gtsam_pose(gtsam, data, data.poses[0])
    dof = 6 if data.is_3d else 3
    noise = gtsam.noiseModel.Gaussian.Information(PRIOR_INFORMATION * np.eye(dof))
    g.add(gtsam.PriorFactorPose3(first, pose, noise) if data.is_3d else gtsam.PriorFactorPose2(first, pose, noise))


def run_gtsam(gtsam, g, v, repeats):
    best, result, iters = np.inf, None, None
    for _ in range(repeats):
        params = gtsam.LevenbergMarquardtParams()
        t0 = time.perf_counter()
        opt = gtsam.LevenbergMarquardtOptimizer(g, v, params)
        r = opt.optimize()
        dt = time.perf_counter() - t0
        if dt < best:
            best, result, iters = dt, r, opt.iterations()
    return 2.0 * g.error(result), iters, best


# ----------------------------------------------------------------------------- ours


def run_ours(graph, repeats):
    best, res = np.inf, None
    for _ in range(repeats):
        h = graph.copy()
        t0 = time.perf_counter()
        r = h.solve(method="lm")
        dt = time.perf_counter() - t0
        if dt < best:
            best, res = dt, r
    return res, best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="best of this many runs per solver")
    ap.add_argument("--only", default="", help="comma-separated substrings of data set names")
    args = ap.parse_args()
    ensure_gtsam()
    import gtsam

    import manif_py
    from manif_py import estimation as est

    data_dir = os.path.join(os.path.dirname(gtsam.__file__), "Data")
    print(f"gtsam {getattr(gtsam, '__version__', '?')} data: {data_dir}")
    print(f"manif_py {manif_py.__version__}; numpy {np.__version__}; best of {args.repeats} runs; "
          f"load average {os.getloadavg()[0]:.2f}\n")
    header = ("data set", "poses", "factors", "initial chi2", "reader check", "final chi2 ours",
              "final chi2 GTSAM", "rel. diff", "iters ours/GTSAM", "time ours", "time GTSAM", "ratio")
    rows = []
    only = [s for s in args.only.split(",") if s]
    for name, fname, kw, how in DATASETS:
        if only and not any(s in name for s in only):
            continue
        path = os.path.join(data_dir, fname)
        if not os.path.exists(path):
            print(f"skip {name}: {path} missing")
            continue
        data = est.read_graph(path, **kw)
        graph = data.to_graph(prior="first", prior_information=PRIOR_INFORMATION)
        initial = graph.chi2()
        if how == "ours":
            g = gtsam_graph_from_data(gtsam, data)
            check = "built from ours"
        else:
            g = gtsam_graph_from_file(gtsam, path, how)
        v = gtsam_values(gtsam, data)
        add_gtsam_prior(gtsam, g, data)
        if how != "ours":
            # Both readers must define the same cost: compare it at the initial values and
            # at randomly perturbed ones (which exercises every information entry).
            rng = np.random.default_rng(0)
            batch = getattr(manif_py.batch, data.group.__name__)
            moved = batch.rplus(data.poses, rng.normal(0.0, 0.05, (len(data.poses), data.group.dof)))
            probe = graph.copy()
            probe.set_values(np.arange(len(moved)), moved)
            pairs = [(2.0 * g.error(v), initial), (2.0 * g.error(gtsam_values(gtsam, data, moved)), probe.chi2())]
            same = all(abs(a - b) <= 1e-9 * max(1.0, b) for a, b in pairs)
            check = "match" if same else "DIFFER " + ", ".join(f"{a:.6g} vs {b:.6g}" for a, b in pairs)
        chi2_g, it_g, t_g = run_gtsam(gtsam, g, v, args.repeats)
        res, t_o = run_ours(graph, args.repeats)
        diff = res.final_chi2 - chi2_g
        rel = 0.0 if abs(diff) <= 1e-12 * max(1.0, abs(chi2_g)) else diff / chi2_g  # both ~0: equal
        verdict = "" if rel <= 1e-6 else " (WORSE)"
        rows.append((name, str(len(data.pose_ids)), str(graph.num_factors), f"{initial:.6g}", check,
                     f"{res.final_chi2:.10g}", f"{chi2_g:.10g}", f"{rel:+.1e}{verdict}", f"{res.iterations}/{it_g}",
                     f"{t_o * 1e3:.1f} ms", f"{t_g * 1e3:.1f} ms", f"{t_o / t_g:.2f}x"))
        print(" | ".join(rows[-1]), flush=True)
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
