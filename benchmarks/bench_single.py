"""Single-call SE3 benchmark: ns per Python call, manif_py against its peers.

Each op is timed timeit-style (a calibrated loop count, several rounds
interleaved across libraries, the median) as a user writes it, e.g. ``X.compose(Y)`` or ``SE3.Exp(v)``. Inputs
are built once in each library's own types (numpy arrays for the array
arguments; jax arrays for jaxlie, torch tensors for pypose), so conversion of
the inputs is not timed for the peers that need their own array type.

Peers: sophuspy 1.2.0 (in the numpy<2 venv, as a subprocess), gtsam, scipy
RigidTransform, jaxlie (jitted, float64), pypose, and a minimal pybind11+Eigen
binding built on the fly from minimal_se3.cpp (the binding floor). A peer that
cannot be imported is reported as "n/a (reason)".

Usage: .bench-venv/main/bin/python benchmarks/bench_single.py [--json FILE] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

import numpy as np

from _common import HERE, VENVS, best, build_extension, calibrated, fmt_ns, fmt_ratio, log, markdown_table, na

OPS = ["Exp", "Log", "compose", "X * Y", "inverse", "act"]
OURS, FLOOR = "manif_py", "minimal pybind11+Eigen"
SUBPROCESS_PEERS = {"sophuspy": VENVS / "sophus" / "bin" / "python"}


def inputs() -> dict:
    """Fixed test data: a tangent, two poses (tx ty tz qx qy qz qw) and a point."""
    rng = np.random.default_rng(0)
    tau = rng.uniform(-1, 1, 6)
    poses = []
    for _ in range(2):
        q = rng.normal(size=4)
        poses.append(np.concatenate([rng.uniform(-1, 1, 3), q / np.linalg.norm(q)]))
    return {"tau": tau, "x": poses[0], "y": poses[1], "p": rng.uniform(-1, 1, 3)}


def matrix(c: np.ndarray) -> np.ndarray:
    """4x4 homogeneous matrix of a pose (tx ty tz qx qy qz qw)."""
    x, y, z, w = c[3:]
    m = np.eye(4)
    m[:3, :3] = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ]
    m[:3, 3] = c[:3]
    return m


# ----------------------------------------------------------------------------- peers
# Each returns (version, {op: (stmt, env)}).


def case_manif_py(d):
    import manif_py

    env = {"SE3": manif_py.SE3, "v": d["tau"], "X": manif_py.SE3(d["x"]), "Y": manif_py.SE3(d["y"]), "p": d["p"]}
    stmts = {"Exp": "SE3.Exp(v)", "Log": "X.Log()", "compose": "X.compose(Y)", "X * Y": "X * Y",
             "inverse": "X.inverse()", "act": "X.act(p)"}
    return manif_py.__version__, {op: (s, env) for op, s in stmts.items()}


def case_minimal(d):
    sys.path.insert(0, str(build_extension(HERE / "minimal_se3.cpp", "_minimal_se3")))
    import _minimal_se3 as m

    env = {"SE3": m.SE3, "v": d["tau"], "X": m.SE3(d["x"]), "Y": m.SE3(d["y"]), "p": d["p"]}
    stmts = {"Exp": "SE3.Exp(v)", "Log": "X.Log()", "compose": "X.compose(Y)", "X * Y": "X * Y",
             "inverse": "X.inverse()", "act": "X.act(p)"}
    return "pybind11 " + __import__("pybind11").__version__, {op: (s, env) for op, s in stmts.items()}


def case_sophuspy(d):
    import sophuspy as sp

    env = {"SE3": sp.SE3, "v": d["tau"], "X": sp.SE3(matrix(d["x"])), "Y": sp.SE3(matrix(d["y"])), "p": d["p"]}
    stmts = {"Exp": "SE3.exp(v)", "Log": "X.log()", "compose": "X * Y", "X * Y": "X * Y",
             "inverse": "X.inverse()", "act": "X * p"}
    return "1.2.0 (numpy " + np.__version__ + ")", {op: (s, env) for op, s in stmts.items()}


def case_gtsam(d):
    import gtsam

    def pose(c):
        return gtsam.Pose3(gtsam.Rot3.Quaternion(c[6], c[3], c[4], c[5]), c[:3].copy())

    v = np.concatenate([d["tau"][3:], d["tau"][:3]])  # gtsam orders (omega, v)
    env = {"Pose3": gtsam.Pose3, "v": v, "X": pose(d["x"]), "Y": pose(d["y"]), "p": d["p"]}
    stmts = {"Exp": "Pose3.Expmap(v)", "Log": "Pose3.Logmap(X)", "compose": "X.compose(Y)", "X * Y": "X * Y",
             "inverse": "X.inverse()", "act": "X.transformFrom(p)"}
    return _dist_version("gtsam"), {op: (s, env) for op, s in stmts.items()}


def case_scipy(d):
    import scipy
    from scipy.spatial.transform import RigidTransform, Rotation

    def tf(c):
        return RigidTransform.from_components(c[:3], Rotation.from_quat(c[3:]))

    env = {"RT": RigidTransform, "v": np.concatenate([d["tau"][3:], d["tau"][:3]]),  # (rotvec, translation)
           "X": tf(d["x"]), "Y": tf(d["y"]), "p": d["p"]}
    stmts = {"Exp": "RT.from_exp_coords(v)", "Log": "X.as_exp_coords()", "compose": "X * Y", "X * Y": "X * Y",
             "inverse": "X.inv()", "act": "X.apply(p)"}
    return scipy.__version__, {op: (s, env) for op, s in stmts.items()}


def case_jaxlie(d):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jaxlie

    def pose(c):
        return jaxlie.SE3(jnp.asarray(np.concatenate([c[6:], c[3:6], c[:3]])))  # wxyz_xyz

    fns = {"exp": jax.jit(jaxlie.SE3.exp), "log": jax.jit(lambda a: a.log()), "mul": jax.jit(lambda a, b: a @ b),
           "inv": jax.jit(lambda a: a.inverse()), "act": jax.jit(lambda a, q: a.apply(q))}
    env = {**fns, "ready": jax.block_until_ready, "v": jnp.asarray(d["tau"]), "X": pose(d["x"]), "Y": pose(d["y"]),
           "p": jnp.asarray(d["p"])}
    stmts = {"Exp": "ready(exp(v))", "Log": "ready(log(X))", "compose": "ready(mul(X, Y))", "X * Y": "ready(mul(X, Y))",
             "inverse": "ready(inv(X))", "act": "ready(act(X, p))"}
    return _dist_version("jaxlie") + " (jax " + jax.__version__ + ", jit)", {op: (s, env) for op, s in stmts.items()}


def case_pypose(d):
    import pypose as pp
    import torch

    def pose(c):
        return pp.SE3(torch.tensor(c, dtype=torch.float64))  # same storage order as ours

    env = {"pp": pp, "v": torch.tensor(d["tau"]), "X": pose(d["x"]), "Y": pose(d["y"]), "p": torch.tensor(d["p"])}
    stmts = {"Exp": "pp.se3(v).Exp()", "Log": "X.Log()", "compose": "X @ Y", "X * Y": "X * Y",
             "inverse": "X.Inv()", "act": "X.Act(p)"}
    return pp.__version__ + " (torch " + torch.__version__ + ")", {op: (s, env) for op, s in stmts.items()}


PEERS = {OURS: case_manif_py, FLOOR: case_minimal, "sophuspy": case_sophuspy, "gtsam": case_gtsam,
         "scipy RigidTransform": case_scipy, "jaxlie": case_jaxlie, "pypose": case_pypose}


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


# ----------------------------------------------------------------------------- running


def run_peers(names: list[str], rounds: int) -> dict:
    """{name: {'version', 'ns': {op: ns or 'n/a (...)'}}} for libraries in this process.

    Rounds are interleaved (round r of every op of every library, then round r+1)
    so that a burst of background load hits all contenders alike; the median
    over rounds is reported.
    """
    results, timers = {}, {}
    for name in names:
        try:
            version, cases = PEERS[name](inputs())
        except Exception as exc:  # a missing or broken peer is reported, never fatal
            log(f"   {name:24s} {na(exc)}")
            results[name] = {"version": na(exc), "ns": {op: "n/a" for op in OPS}}
            continue
        results[name] = {"version": version, "ns": {}}
        for op in OPS:
            try:
                timers[name, op] = calibrated(*cases[op])
            except Exception as exc:
                results[name]["ns"][op] = na(exc)
                log(f"   {name:24s} {op:8s} {na(exc)}")
    samples = {key: [] for key in timers}
    for r in range(rounds):
        for key, one_round in timers.items():
            samples[key].append(one_round())
        log(f"   round {r + 1}/{rounds} of {len(timers)} measurements done")
    for (name, op), runs in samples.items():
        results[name]["ns"][op] = statistics.median(runs) * 1e9
        log(f"   {name:24s} {op:8s} {results[name]['ns'][op]:>12,.0f} ns")
    for r in results.values():
        r["ns"] = {op: r["ns"][op] for op in OPS}  # column order
    return results


def run_subprocess_peer(name: str, python, rounds: int) -> dict:
    """Runs one peer in another interpreter (its own venv) and reads its JSON."""
    if not python.exists():
        reason = f"n/a (no venv at {python.parent.parent}; run benchmarks/setup_peers.sh)"
        log(f"   {name:24s} {reason}")
        return {"version": reason, "ns": {op: "n/a" for op in OPS}}
    cmd = [str(python), str(HERE / "bench_single.py"), "--only", name, "--rounds", str(rounds)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("   "):
            log(line)
    try:
        return json.loads(proc.stdout.split("@@JSON@@", 1)[1])[name]
    except (IndexError, ValueError, KeyError):
        last = (proc.stderr.strip().splitlines() or [""])[-1]
        reason = f"n/a (subprocess exited {proc.returncode}: {last[:80]})"
        log(f"   {name:24s} {reason}")
        return {"version": reason, "ns": {op: "n/a" for op in OPS}}


def run_all(rounds: int, only: str | None = None) -> dict:
    """Results for every library (or only one, in this process), in PEERS order."""
    if only:
        return run_peers([only], rounds)
    results = run_peers([k for k in PEERS if k not in SUBPROCESS_PEERS], rounds)
    for name, python in SUBPROCESS_PEERS.items():
        results[name] = run_subprocess_peer(name, python, rounds)
    return {k: results[k] for k in PEERS}


def summary(results: dict) -> dict:
    """Per op: fastest peer (not ours, not the binding floor), ours/fastest and ours/floor."""
    out = {}
    for op in OPS:
        peers = {k: r["ns"][op] for k, r in results.items() if k not in (OURS, FLOOR)}
        name, val = best(peers)
        ours = results[OURS]["ns"][op]
        floor = results[FLOOR]["ns"][op]
        ok = isinstance(ours, float)
        out[op] = {"fastest_peer": name, "fastest_ns": val,
                   "ratio_peer": ours / val if ok and val else None,
                   "ratio_floor": ours / floor if ok and isinstance(floor, float) else None}
    return out


def table(results: dict, summ: dict) -> str:
    """Markdown table: ns per call, then the ratios."""
    rows = [[f"{k} {r['version']}"] + [fmt_ns(r["ns"][op]) for op in OPS]
            for k, r in results.items()]
    rows.append(["fastest peer"] + [summ[op]["fastest_peer"] or "n/a" for op in OPS])
    rows.append(["**ours / fastest peer**"] + [f"**{fmt_ratio(summ[op]['ratio_peer'])}**" for op in OPS])
    rows.append(["ours / minimal binding"] + [fmt_ratio(summ[op]["ratio_floor"]) for op in OPS])
    return markdown_table(["ns per call (median)"] + OPS, rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7, help="timing rounds per op (median is reported)")
    ap.add_argument("--json", help="write raw results as JSON to this file")
    ap.add_argument("--only", help=argparse.SUPPRESS)  # one peer, in this process (used for subprocess peers)
    args = ap.parse_args()
    log("== single call, SE3, ns per Python call")
    results = run_all(args.rounds, args.only)
    if args.only:
        print("@@JSON@@" + json.dumps(results))
        return
    summ = summary(results)
    log("\n" + table(results, summ))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "summary": summ}, f, indent=1)


if __name__ == "__main__":
    main()
