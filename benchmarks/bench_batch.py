"""Batch benchmark: ns per element over N elements, manif_py against its peers.

Ops: SE3 Exp, Log, compose, inverse, act (N poses on N points), act of one pose
on N points, SO3 Exp, SO3 Log; then manif_py's SE3 compose/Exp/Log/act with
jacobians=True against without.

Contenders: manif_py with 1 and with 2 threads; scipy Rotation/RigidTransform,
jaxlie (jit + vmap, float64, block_until_ready), pypose, plain torch formulas
(lietorch-style quaternion arithmetic), numpy (one pose on N points), all at
their default threading; and baseline_loop.cpp, a plain single-threaded
C++/Eigen loop compiled with the flags of our extension (the floor).
Also ours with out= (preallocated outputs, as the C++ loops use), the like-for-like
row against the plain loop. Diagnostic rows, not peers: kernel_loop.cpp runs manif_py's own scalar kernels
(cpp/include) in the same kind of C++ loop, with and without the per-element
input validation of the batch bindings, to split the gap to the floor into
kernel, validation and binding costs.

Peers get their inputs prebuilt in their own types (RigidTransform, LieTensor,
jax arrays), so only the op is timed; manif_py takes and returns numpy arrays.

Usage: .bench-venv/main/bin/python benchmarks/bench_batch.py [--n N] [--rounds R] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess

import numpy as np

from _common import HERE, OUT, ROOT, best, build, fmt_ns, fmt_ratio, log, markdown_table, na, time_batch

OPS = ["SE3 Exp", "SE3 Log", "SE3 compose", "SE3 inverse", "SE3 act", "act one pose", "SO3 Exp", "SO3 Log"]
LOOP_KEYS = dict(zip(OPS, ["se3_exp", "se3_log", "se3_compose", "se3_inverse", "se3_act", "se3_act_one",
                           "so3_exp", "so3_log"]))
OURS = {"manif_py 1 thread": 1, "manif_py 2 threads": 2}
# Ours with the per-element input checks off (manif_py.unchecked()), 2 threads.
UNCHECKED = {"manif_py 2 threads, unchecked": 2}
# Ours writing into preallocated outputs (out=), as the C++ loops do: without the
# page faults (and kernel page zeroing) of a fresh output array on every call.
WITH_OUT = {"manif_py 1 thread, out=": 1, "manif_py 2 threads, out=": 2}
LOOP = "plain C++ loop"
KERNELS = {"manif_py kernels in C++, validated": "validated", "manif_py kernels in C++, unvalidated": "raw"}
JAC_OPS = ["compose", "Exp", "Log", "act"]


def make_data(n: int) -> dict:
    """Random inputs: tangents, two pose arrays (tx ty tz qx qy qz qw), points, rotation vectors."""
    rng = np.random.default_rng(0)

    def poses():
        q = rng.normal(size=(n, 4))
        return np.ascontiguousarray(np.hstack([rng.uniform(-1, 1, (n, 3)), q / np.linalg.norm(q, axis=1, keepdims=True)]))

    X, Y = poses(), poses()
    return {"tau": rng.uniform(-1, 1, (n, 6)), "X": X, "Y": Y, "P": rng.uniform(-1, 1, (n, 3)),
            "th": rng.uniform(-1, 1, (n, 3)), "Q": np.ascontiguousarray(X[:, 3:]), "X0": X[0].copy()}


def rotation_matrix(q: np.ndarray) -> np.ndarray:
    """3x3 matrix of a unit quaternion (x, y, z, w)."""
    x, y, z, w = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


# ----------------------------------------------------------------------------- contenders
# Each returns (version, {op: zero-argument callable}); ops it lacks are left out.


def ops_manif_py(d, threads: int, validate: bool = True, out: bool = False):
    import manif_py

    B = manif_py.batch
    # Output arrays for out=, allocated (and touched) once, outside the timing.
    o = {k: np.zeros(shape) for k, shape in {"7": (len(d["X"]), 7), "6": (len(d["X"]), 6), "3": (len(d["X"]), 3),
                                               "4": (len(d["X"]), 4)}.items()} if out else {}

    def kw(k):
        return {"out": o[k]} if out else {}

    def on(f):
        def call():
            manif_py.set_num_threads(threads)
            manif_py._core.set_validation(validate)
            try:
                return f()
            finally:
                manif_py._core.set_validation(True)
        return call

    fns = {"SE3 Exp": lambda: B.SE3.Exp(d["tau"], **kw("7")), "SE3 Log": lambda: B.SE3.Log(d["X"], **kw("6")),
           "SE3 compose": lambda: B.SE3.compose(d["X"], d["Y"], **kw("7")), "SE3 inverse": lambda: B.SE3.inverse(d["X"], **kw("7")),
           "SE3 act": lambda: B.SE3.act(d["X"], d["P"], **kw("3")), "act one pose": lambda: B.SE3.act(d["X0"], d["P"], **kw("3")),
           "SO3 Exp": lambda: B.SO3.Exp(d["th"], **kw("4")), "SO3 Log": lambda: B.SO3.Log(d["Q"], **kw("3"))}
    return manif_py.__version__, {k: on(f) for k, f in fns.items()}


def ops_scipy(d):
    import scipy
    from scipy.spatial.transform import RigidTransform as RT, Rotation

    def tf(c):
        return RT.from_components(c[..., :3], Rotation.from_quat(c[..., 3:]))

    X, Y, X0, R = tf(d["X"]), tf(d["Y"]), tf(d["X0"]), Rotation.from_quat(d["Q"])
    coords = np.ascontiguousarray(np.hstack([d["tau"][:, 3:], d["tau"][:, :3]]))  # (rotvec, translation)
    return scipy.__version__, {
        "SE3 Exp": lambda: RT.from_exp_coords(coords), "SE3 Log": lambda: X.as_exp_coords(),
        "SE3 compose": lambda: X * Y, "SE3 inverse": lambda: X.inv(), "SE3 act": lambda: X.apply(d["P"]),
        "act one pose": lambda: X0.apply(d["P"]), "SO3 Exp": lambda: Rotation.from_rotvec(d["th"]),
        "SO3 Log": lambda: R.as_rotvec()}


def ops_jaxlie(d):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jaxlie import SE3, SO3

    def wxyz_xyz(c):
        return jnp.asarray(np.concatenate([c[..., 6:], c[..., 3:6], c[..., :3]], axis=-1))

    X, Y, X0 = wxyz_xyz(d["X"]), wxyz_xyz(d["Y"]), wxyz_xyz(d["X0"])
    tau, P, th = jnp.asarray(d["tau"]), jnp.asarray(d["P"]), jnp.asarray(d["th"])
    Q = jnp.asarray(np.concatenate([d["Q"][:, 3:], d["Q"][:, :3]], axis=1))

    def vm(f, *args, in_axes=0):
        g = jax.jit(jax.vmap(f, in_axes=in_axes))
        return lambda: jax.block_until_ready(g(*args))

    return _dist_version("jaxlie") + f" (jax {jax.__version__})", {
        "SE3 Exp": vm(lambda t: SE3.exp(t).wxyz_xyz, tau), "SE3 Log": vm(lambda a: SE3(a).log(), X),
        "SE3 compose": vm(lambda a, b: (SE3(a) @ SE3(b)).wxyz_xyz, X, Y),
        "SE3 inverse": vm(lambda a: SE3(a).inverse().wxyz_xyz, X),
        "SE3 act": vm(lambda a, p: SE3(a) @ p, X, P),
        "act one pose": vm(lambda a, p: SE3(a) @ p, X0, P, in_axes=(None, 0)),
        "SO3 Exp": vm(lambda t: SO3.exp(t).wxyz, th), "SO3 Log": vm(lambda q: SO3(q).log(), Q)}


def ops_pypose(d):
    import pypose as pp
    import torch

    t = {k: torch.from_numpy(v) for k, v in d.items()}
    X, Y, X0, R = pp.SE3(t["X"]), pp.SE3(t["Y"]), pp.SE3(t["X0"]), pp.SO3(t["Q"])

    def ng(f):
        def call():
            with torch.no_grad():
                return f()
        return call

    return pp.__version__ + f" (torch {torch.__version__}, {torch.get_num_threads()} threads)", {k: ng(f) for k, f in {
        "SE3 Exp": lambda: pp.se3(t["tau"]).Exp(), "SE3 Log": lambda: X.Log(), "SE3 compose": lambda: X * Y,
        "SE3 inverse": lambda: X.Inv(), "SE3 act": lambda: X.Act(t["P"]), "act one pose": lambda: X0.Act(t["P"]),
        "SO3 Exp": lambda: pp.so3(t["th"]).Exp(), "SO3 Log": lambda: R.Log()}.items()}


def torch_formulas():
    """Plain torch quaternion formulas (x, y, z, w storage), lietorch-style."""
    import torch

    def qmul(a, b):
        av, aw, bv, bw = a[..., :3], a[..., 3:], b[..., :3], b[..., 3:]
        return torch.cat([aw * bv + bw * av + torch.cross(av, bv, dim=-1), aw * bw - (av * bv).sum(-1, keepdim=True)], -1)

    def rotate(q, v):
        u, w = q[..., :3], q[..., 3:]
        uv = torch.cross(u, v, dim=-1)
        return v + 2 * (w * uv + torch.cross(u, uv, dim=-1))

    def compose(x, y):
        return torch.cat([x[..., :3] + rotate(x[..., 3:], y[..., :3]), qmul(x[..., 3:], y[..., 3:])], -1)

    def inverse(x):
        qi = torch.cat([-x[..., 3:6], x[..., 6:]], -1)
        return torch.cat([-rotate(qi, x[..., :3]), qi], -1)

    def act(x, p):
        return x[..., :3] + rotate(x[..., 3:], p)

    def so3_exp(th):
        t = th.norm(dim=-1, keepdim=True)
        small = t < 1e-5
        ts = torch.where(small, torch.ones_like(t), t)
        k = torch.where(small, 0.5 - t * t / 48, torch.sin(ts / 2) / ts)
        return torch.cat([k * th, torch.cos(t / 2)], -1)

    def so3_log(q):
        v, w = q[..., :3], q[..., 3:]
        s = v.norm(dim=-1, keepdim=True)
        sign = torch.where(w < 0, -1.0, 1.0)
        ss = torch.where(s < 1e-10, torch.ones_like(s), s)
        k = torch.where(s < 1e-10, 2 / w, 2 * torch.atan2(sign * s, sign * w) / ss)
        return k * v

    return compose, inverse, act, so3_exp, so3_log


def ops_torch(d):
    import torch

    t = {k: torch.from_numpy(v) for k, v in d.items()}
    compose, inverse, act, so3_exp, so3_log = torch_formulas()
    R, tr = torch.from_numpy(rotation_matrix(d["X0"][3:])), t["X0"][:3]
    return torch.__version__ + f" ({torch.get_num_threads()} threads)", {
        "SE3 compose": lambda: compose(t["X"], t["Y"]), "SE3 inverse": lambda: inverse(t["X"]),
        "SE3 act": lambda: act(t["X"], t["P"]), "act one pose": lambda: t["P"] @ R.T + tr,
        "SO3 Exp": lambda: so3_exp(t["th"]), "SO3 Log": lambda: so3_log(t["Q"])}


def ops_numpy(d):
    R, tr = rotation_matrix(d["X0"][3:]), d["X0"][:3]
    return np.__version__, {"act one pose": lambda: d["P"] @ R.T + tr}


PEERS = {"scipy": ops_scipy, "jaxlie (jit+vmap)": ops_jaxlie, "pypose": ops_pypose,
         "torch formulas": ops_torch, "numpy": ops_numpy}


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


# ----------------------------------------------------------------------------- running


def check_formulas(d: dict) -> None:
    """Our hand-written torch formulas must agree with manif_py (on a slice)."""
    import manif_py
    import torch

    s = {k: (v[:1000] if v.ndim == 2 else v) for k, v in d.items()}
    t = {k: torch.from_numpy(v) for k, v in s.items()}
    compose, inverse, act, so3_exp, so3_log = torch_formulas()
    B = manif_py.batch
    pairs = [(compose(t["X"], t["Y"]), B.SE3.compose(s["X"], s["Y"])), (inverse(t["X"]), B.SE3.inverse(s["X"])),
             (act(t["X"], t["P"]), B.SE3.act(s["X"], s["P"])), (so3_exp(t["th"]), B.SO3.Exp(s["th"])),
             (so3_log(t["Q"]), B.SO3.Log(s["Q"]))]
    for a, b in pairs:
        if not np.allclose(a.numpy(), b, atol=1e-9):
            raise AssertionError("torch formulas disagree with manif_py")


def measure(name: str, version: str, fns: dict, n: int, rounds: int) -> dict:
    """Times every op a contender has; '—' where it has none, 'n/a (reason)' where one fails."""
    ns = {}
    for op in OPS:
        if op not in fns:
            ns[op] = "—"  # the contender has no such op
            continue
        try:
            ns[op] = time_batch(fns[op], n, rounds)
            log(f"   {name:24s} {op:13s} {ns[op]:>10,.1f} ns/element")
        except Exception as exc:
            ns[op] = na(exc)
            log(f"   {name:24s} {op:13s} {ns[op]}")
    return {"version": version, "ns": ns}


def run_contender(name: str, factory, d: dict, n: int, rounds: int) -> dict:
    """Builds a contender's ops (reporting n/a if it cannot be imported) and times them."""
    try:
        version, fns = factory(d)
    except Exception as exc:
        log(f"   {name:24s} {na(exc)}")
        return {"version": na(exc), "ns": {op: "n/a" for op in OPS}}
    return measure(name, version, fns, n, rounds)


def run_cpp(label: str, exe, args: list[str]) -> dict:
    """Runs a C++ loop benchmark (timed inside C++) and reads its JSON."""
    try:
        out = subprocess.run([str(exe()), *args], capture_output=True, text=True, check=True).stdout
        raw = json.loads(out)
        ns = {op: raw[key] for op, key in LOOP_KEYS.items()}
        for op in OPS:
            log(f"   {label:22s} {op:13s} {ns[op]:>10,.1f} ns/element")
        return {"version": "(1 thread, g++ -O3 -fno-math-errno)", "ns": ns}
    except Exception as exc:
        log(f"   {label:22s} {na(exc)}")
        return {"version": na(exc), "ns": {op: "n/a" for op in OPS}}


def loop_exe():
    """The plain C++/Eigen loop (baseline_loop.cpp)."""
    return build(HERE / "baseline_loop.cpp", OUT / "baseline_loop", [])


def kernel_exe():
    """Our own kernels from cpp/include in a C++ loop (kernel_loop.cpp), rebuilt when the headers change."""
    include = ROOT / "cpp" / "include"
    return build(HERE / "kernel_loop.cpp", OUT / "kernel_loop", [f"-I{include}"], list(include.rglob("*.h")))


def run_jacobians(d: dict, n: int, rounds: int) -> dict:
    """manif_py SE3 ops with and without jacobians=True, ns per element, per thread
    count, allocating their outputs and writing into preallocated ones (out=)."""
    import manif_py

    B = manif_py.batch.SE3
    z = {7: np.zeros((n, 7)), 6: np.zeros((n, 6)), 3: np.zeros((n, 3))}
    J6, J6b, J36, J33 = np.zeros((n, 6, 6)), np.zeros((n, 6, 6)), np.zeros((n, 3, 6)), np.zeros((n, 3, 3))
    outs = {"compose": (z[7], (z[7], J6, J6b)), "Exp": (z[7], (z[7], J6)), "Log": (z[6], (z[6], J6)),
            "act": (z[3], (z[3], J36, J33))}
    calls = {"compose": lambda j, o: B.compose(d["X"], d["Y"], jacobians=j, out=o),
             "Exp": lambda j, o: B.Exp(d["tau"], jacobians=j, out=o),
             "Log": lambda j, o: B.Log(d["X"], jacobians=j, out=o),
             "act": lambda j, o: B.act(d["X"], d["P"], jacobians=j, out=o)}
    out = {}
    for label, threads in OURS.items():
        manif_py.set_num_threads(threads)
        for mode in ("allocating", "out="):
            for op, f in calls.items():
                o_plain, o_jac = outs[op] if mode == "out=" else (None, None)
                plain = time_batch(lambda: f(False, o_plain), n, rounds)
                jac = time_batch(lambda: f(True, o_jac), n, rounds)
                out[f"{op}|{threads}|{mode}"] = {"op": op, "threads": threads, "mode": mode, "plain": plain, "jac": jac,
                                                 "ratio": jac / plain}
                log(f"   jacobians {op:8s} {threads} thread(s), {mode:10s}: {plain:8.1f} -> {jac:8.1f} ns/element "
                    f"({jac / plain:.2f}x)")
    manif_py.set_num_threads(0)
    return out


def run_interleaved(d: dict, n: int, rounds: int) -> str:
    """Ours (1 thread, default and out=) and the plain loop taken in turns, op by op,
    best of `rounds`: on a shared machine the load moves between two separate runs,
    and the best of alternating rounds is what each would do on a quiet one."""
    import manif_py

    exe = loop_exe()
    ours = ops_manif_py(d, 1)[1]
    with_out = ops_manif_py(d, 1, out=True)[1]
    best_ns = {}
    for _ in range(rounds):
        loop = json.loads(subprocess.run([str(exe), str(n), "3"], capture_output=True, text=True, check=True).stdout)
        for op in OPS:
            for mode, val in (("loop", loop[LOOP_KEYS[op]]), ("default", time_batch(ours[op], n, 1)),
                              ("out=", time_batch(with_out[op], n, 1))):
                best_ns[(op, mode)] = min(best_ns.get((op, mode), float("inf")), val)
    manif_py.set_num_threads(0)
    rows = [[op, fmt_ns(best_ns[(op, "loop")]), fmt_ns(best_ns[(op, "default")]),
             fmt_ratio(best_ns[(op, "default")] / best_ns[(op, "loop")]), fmt_ns(best_ns[(op, "out=")]),
             fmt_ratio(best_ns[(op, "out=")] / best_ns[(op, "loop")])] for op in OPS]
    return markdown_table(["best of rounds, ns/el", "plain C++ loop", "ours 1T", "/ loop", "ours 1T out=", "/ loop"], rows)


def summary(results: dict) -> dict:
    """Per op: best peer, and ours (1 and 2 threads) against it and against the plain loop."""
    out = {}
    for op in OPS:
        peers = {k: r["ns"][op] for k, r in results.items()
                 if k not in OURS and k not in UNCHECKED and k not in WITH_OUT and k != LOOP and k not in KERNELS}
        name, val = best(peers)
        loop = results[LOOP]["ns"][op]
        row = {"best_peer": name, "best_ns": val}
        for label, threads in OURS.items():
            ours = results[label]["ns"][op]
            ok = isinstance(ours, float)
            row[f"peer_{threads}"] = ours / val if ok and val else None
            row[f"loop_{threads}"] = ours / loop if ok and isinstance(loop, float) else None
        for label in UNCHECKED:
            ours = results[label]["ns"][op]
            ok = isinstance(ours, float)
            row["peer_unchecked"] = ours / val if ok and val else None
            row["loop_unchecked"] = ours / loop if ok and isinstance(loop, float) else None
        for label, threads in WITH_OUT.items():
            ours = results[label]["ns"][op]
            row[f"loop_out_{threads}"] = ours / loop if isinstance(ours, float) and isinstance(loop, float) else None
        out[op] = row
    return out


def tables(results: dict, summ: dict, jac: dict) -> str:
    """Markdown: ns per element with ratio rows; then the Jacobian overhead."""
    rows = [[f"{k} {r['version']}"] + [fmt_ns(r["ns"][op]) for op in OPS]
            for k, r in results.items()]
    rows.append(["best peer"] + [f"{summ[op]['best_peer']}" for op in OPS])
    for t in OURS.values():
        rows.append([f"**ours {t}T / best peer**"] + [f"**{fmt_ratio(summ[op][f'peer_{t}'])}**" for op in OPS])
    for t in OURS.values():
        rows.append([f"**ours {t}T / plain loop**"] + [f"**{fmt_ratio(summ[op][f'loop_{t}'])}**" for op in OPS])
    rows.append(["**ours 2T unchecked / plain loop**"] + [f"**{fmt_ratio(summ[op]['loop_unchecked'])}**" for op in OPS])
    for t in WITH_OUT.values():
        rows.append([f"**ours {t}T out= / plain loop**"] + [f"**{fmt_ratio(summ[op][f'loop_out_{t}'])}**" for op in OPS])
    main = markdown_table(["ns per element"] + OPS, rows)
    jrows = [[r["op"], str(r["threads"]), r["mode"], fmt_ns(r["plain"]), fmt_ns(r["jac"]), fmt_ratio(r["ratio"])]
             for r in jac.values()]
    return main + "\n\n" + markdown_table(["SE3 op", "threads", "outputs", "without (ns/el)", "jacobians=True (ns/el)", "ratio"],
                                           jrows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="batch size")
    ap.add_argument("--rounds", type=int, default=5, help="timed runs per op after one warm-up (median)")
    ap.add_argument("--json", help="write raw results as JSON to this file")
    ap.add_argument("--no-peers", action="store_true", help="only ours and the C++ loops (a quicker run)")
    ap.add_argument("--interleaved", type=int, metavar="ROUNDS",
                    help="only ours against the plain loop, taken in turns, best of ROUNDS (for a busy machine)")
    args = ap.parse_args()
    d = make_data(args.n)
    if args.interleaved:
        log(f"== batch, N = {args.n:,}, ours against the plain loop in turns, best of {args.interleaved}")
        log("\n" + run_interleaved(d, args.n, args.interleaved))
        return
    log(f"== batch, N = {args.n:,}, ns per element")
    results = {}
    for label, threads in OURS.items():
        results[label] = run_contender(label, lambda dd, t=threads: ops_manif_py(dd, t), d, args.n, args.rounds)
    for label, threads in UNCHECKED.items():
        results[label] = run_contender(label, lambda dd, t=threads: ops_manif_py(dd, t, validate=False), d, args.n, args.rounds)
    for label, threads in WITH_OUT.items():
        results[label] = run_contender(label, lambda dd, t=threads: ops_manif_py(dd, t, out=True), d, args.n, args.rounds)
    for name, factory in ({} if args.no_peers else PEERS).items():
        results[name] = run_contender(name, factory, d, args.n, args.rounds)
    try:
        check_formulas(d)
    except Exception as exc:
        log(f"   !! torch formula check: {na(exc)}")
    results[LOOP] = run_cpp(LOOP, loop_exe, [str(args.n), str(args.rounds)])
    for label, mode in KERNELS.items():
        results[label] = run_cpp(label, kernel_exe, [str(args.n), str(args.rounds), mode])
    log("== jacobians=True against without (manif_py)")
    jac = run_jacobians(d, args.n, args.rounds)
    summ = summary(results)
    log("\n" + tables(results, summ, jac))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"n": args.n, "results": results, "summary": summ, "jacobians": jac}, f, indent=1)


if __name__ == "__main__":
    main()
