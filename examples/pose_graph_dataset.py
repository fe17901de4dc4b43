"""Optimise a real pose graph read from a g2o / TORO file, write the result as g2o.

By default it uses GTSAM's copy of the w10000 Manhattan-world graph (10,000 SE(2)
poses, 64,311 constraints) when the gtsam wheel is installed: the `[bench]` extra
brings it (pip install ".[bench]"), or pip install gtsam; it is only located, never
imported. Else pass any file:

    python examples/pose_graph_dataset.py                      # w10000.graph from the gtsam wheel
    python examples/pose_graph_dataset.py path/to/sphere2500.txt --out solved.g2o

Without gtsam and without a path, a synthetic Manhattan-world graph is generated,
written as g2o and read back, so that the script always runs.
"""

import argparse
import importlib.util
import math
import os
import tempfile
import time

import numpy as np

import manif_py as mp
from manif_py.estimation import read_graph, write_g2o


def gtsam_data(name):
    """Path of a file in gtsam/Data of an installed gtsam wheel, or None."""
    spec = importlib.util.find_spec("gtsam")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "Data", name)
    return path if os.path.exists(path) else None


def synthetic_manhattan(path, n=2000, seed=0):
    """A random walk on a grid with loop closures between revisited cells, in g2o format."""
    rng = np.random.default_rng(seed)
    poses, cell = [mp.SE2.Identity()], {(0, 0): [0]}
    heading, pos = 0, np.zeros(2)
    for i in range(1, n):
        heading = (heading + rng.choice([-1, 0, 0, 1])) % 4
        pos = pos + np.round([math.cos(heading * math.pi / 2), math.sin(heading * math.pi / 2)])
        poses.append(mp.SE2.from_xytheta(pos[0], pos[1], heading * math.pi / 2))
        cell.setdefault((int(pos[0]), int(pos[1])), []).append(i)
    sig = np.array([0.05, 0.05, 0.02])
    edges = [(i, i + 1) for i in range(n - 1)]
    edges += [(c[0], j) for c in cell.values() for j in c[1:] if j - c[0] > 2]
    guess, lines = [poses[0]], []
    meas = {}
    for i, j in edges:
        meas[(i, j)] = poses[i].between(poses[j]).rplus(mp.SE2Tangent(rng.normal(0, sig)))
    for i in range(n - 1):
        guess.append(guess[-1].compose(meas[(i, i + 1)]))
    info = " ".join(map(str, np.diag(sig ** -2)[np.triu_indices(3)]))
    lines += [f"VERTEX_SE2 {i} {X.x()} {X.y()} {X.angle()}" for i, X in enumerate(guess)]
    lines += [f"EDGE_SE2 {i} {j} {Z.x()} {Z.y()} {Z.angle()} {info}" for (i, j), Z in meas.items()]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path", nargs="?", help="g2o or TORO file (default: gtsam's w10000.graph)")
    ap.add_argument("--out", help="write the optimised graph here (g2o)")
    ap.add_argument("--method", default="lm", choices=["lm", "gn"])
    args = ap.parse_args()

    path = args.path or gtsam_data("w10000.graph")
    if path is None:
        path = os.path.join(tempfile.mkdtemp(), "manhattan.g2o")
        synthetic_manhattan(path)
        print(f"gtsam not installed: using a synthetic Manhattan world written to {path}")
    t0 = time.perf_counter()
    data = read_graph(path)
    t1 = time.perf_counter()
    graph = data.to_graph(prior="first")  # a prior on the first pose fixes the gauge
    print(f"read {data} in {t1 - t0:.2f} s")
    result = graph.solve(method=args.method, verbose=True)
    print(result)
    print(f"chi2 {result.initial_chi2:.6g} -> {result.final_chi2:.6g} in {result.iterations} iterations, "
          f"{result.seconds:.2f} s")
    if args.out:
        write_g2o(args.out, data.with_estimate(result.values))
        print("wrote", args.out)


if __name__ == "__main__":
    main()
