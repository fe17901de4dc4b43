"""Autograd benchmark: forward + backward of SE3 Exp, Log, compose, act on N elements (CPU).

Contenders, each timed as out = op(inputs); out.backward(grad_out) with every
input requiring a gradient and a fixed random grad_out of out's shape:

* manif_py.torch, C++ path: the compiled batch kernels compute the result and the
  analytic Jacobians; the backward is one batched J^T g per input.
* manif_py.torch, torch backend: the same formulas and Jacobians written in
  vectorised torch (the path CUDA tensors take), here on the CPU.
* plain torch formulas, lietorch-style (quaternion arithmetic), with autograd
  differentiating through them (no analytic Jacobians).
* PyPose (LieTensor ops with its own autograd), if importable; n/a otherwise.

All float64, torch at its default threading. Ratios are time / manif_py C++ path
(above 1: slower than ours). With --device cuda the C++ path is n/a (CPU only) and
the ratios are taken against our torch backend, every call synchronised.
The gradient semantics differ: ours and PyPose return tangent-space gradients for
group inputs, the plain formulas coefficient gradients; the work per element is
what is compared.

Usage: python benchmarks/bench_torch.py [--n 1000000] [--rounds 3] [--device cpu|cuda] [--json FILE]
(.bench-venv/main/bin/python has PyPose installed.)
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from _common import fmt_ns, fmt_ratio, log, machine_info, markdown_table, na, time_batch

OPS = ["Exp", "Log", "compose", "act"]
OURS = "manif_py.torch (C++)"


def make_data(n: int) -> dict:
    """Tangents, two pose arrays (t, q xyzw), points and output gradients, float64."""
    g = torch.Generator().manual_seed(0)

    def poses():
        q = torch.randn(n, 4, generator=g, dtype=torch.float64)
        return torch.cat([torch.rand(n, 3, generator=g, dtype=torch.float64) * 2 - 1,
                          q / q.norm(dim=-1, keepdim=True)], dim=-1)

    return {"tau": torch.rand(n, 6, generator=g, dtype=torch.float64) * 2 - 1, "X": poses(), "Y": poses(),
            "P": torch.rand(n, 3, generator=g, dtype=torch.float64) * 2 - 1,
            "g7": torch.randn(n, 7, generator=g, dtype=torch.float64),
            "g6": torch.randn(n, 6, generator=g, dtype=torch.float64),
            "g3": torch.randn(n, 3, generator=g, dtype=torch.float64)}


def to_device(data: dict, device: str) -> dict:
    return {k: v.to(device) for k, v in data.items()}


# ----------------------------------------------------------------------------- plain torch formulas


def plain_torch_se3():
    """SE3 Exp/Log/compose/act as plain torch formulas (x, y, z, w storage), lietorch-style.

    Small-angle branches by torch.where with safe denominators, so autograd stays finite.
    """

    def qmul(a, b):
        av, aw, bv, bw = a[..., :3], a[..., 3:], b[..., :3], b[..., 3:]
        return torch.cat([aw * bv + bw * av + torch.linalg.cross(av, bv, dim=-1),
                          aw * bw - (av * bv).sum(-1, keepdim=True)], -1)

    def rotate(q, v):
        u, w = q[..., :3], q[..., 3:]
        uv = torch.linalg.cross(u, v, dim=-1)
        return v + 2 * (w * uv + torch.linalg.cross(u, uv, dim=-1))

    def exp(tau):
        rho, th = tau[..., :3], tau[..., 3:]
        t2 = (th * th).sum(-1, keepdim=True)
        small = t2 < 1e-6
        t = torch.sqrt(torch.where(small, torch.ones_like(t2), t2))
        sh, ch = torch.sin(t / 2), torch.cos(t / 2)
        k = torch.where(small, 0.5 - t2 / 48, sh / t)
        w = torch.where(small, 1 - t2 / 8, ch)
        a = torch.where(small, 0.5 - t2 / 24, 2 * sh * sh / t ** 2)
        b = torch.where(small, 1 / 6 - t2 / 120, (t - 2 * sh * ch) / t ** 3)
        tx = torch.linalg.cross(th, rho, dim=-1)
        return torch.cat([rho + a * tx + b * torch.linalg.cross(th, tx, dim=-1), k * th, w], -1)

    def log(X):
        t, v, w = X[..., :3], X[..., 3:6], X[..., 6:]
        sign = torch.where(w < 0, -1.0, 1.0)
        v, w = v * sign, w * sign
        s2 = (v * v).sum(-1, keepdim=True)
        small = s2 < 1e-12
        s = torch.sqrt(torch.where(small, torch.ones_like(s2), s2))
        half = torch.atan2(s, w)
        th = torch.where(small, 2 / w, 2 * half / s) * v
        t2 = 4 * half * half
        c = torch.where(small | (t2 < 1e-6), 1 / 12 + t2 / 720,
                        (1 - half * w / s) / torch.where(t2 < 1e-6, torch.ones_like(t2), t2))
        tx = torch.linalg.cross(th, t, dim=-1)
        return torch.cat([t - 0.5 * tx + c * torch.linalg.cross(th, tx, dim=-1), th], -1)

    def compose(X, Y):
        return torch.cat([X[..., :3] + rotate(X[..., 3:], Y[..., :3]), qmul(X[..., 3:], Y[..., 3:])], -1)

    def act(X, p):
        return X[..., :3] + rotate(X[..., 3:], p)

    return {"Exp": exp, "Log": log, "compose": compose, "act": act}


# ----------------------------------------------------------------------------- contenders


def cases_ours(backend):
    import manif_py.torch as mt

    G = mt.SE3
    return {"Exp": lambda d: G.Exp(d["tau"], backend=backend), "Log": lambda d: G.Log(d["X"], backend=backend),
            "compose": lambda d: G.compose(d["X"], d["Y"], backend=backend),
            "act": lambda d: G.act(d["X"], d["P"], backend=backend)}


def cases_plain():
    f = plain_torch_se3()
    return {"Exp": lambda d: f["Exp"](d["tau"]), "Log": lambda d: f["Log"](d["X"]),
            "compose": lambda d: f["compose"](d["X"], d["Y"]), "act": lambda d: f["act"](d["X"], d["P"])}


def cases_pypose():
    import pypose as pp

    return {"Exp": lambda d: pp.se3(d["tau"]).Exp(), "Log": lambda d: pp.SE3(d["X"]).Log(),
            "compose": lambda d: pp.SE3(d["X"]) * pp.SE3(d["Y"]), "act": lambda d: pp.SE3(d["X"]).Act(d["P"])}


INPUTS = {"Exp": ["tau"], "Log": ["X"], "compose": ["X", "Y"], "act": ["X", "P"]}
GRAD_OUT = {"Exp": "g7", "Log": "g6", "compose": "g7", "act": "g3"}


def fwd_bwd(op, f, data, sync):
    """A closure running f forward and backward on fresh leaves of op's inputs."""
    leaves = {k: data[k].clone().requires_grad_() for k in INPUTS[op]}
    grad_out = data[GRAD_OUT[op]]

    def run():
        for v in leaves.values():
            v.grad = None
        out = f(leaves)
        torch.autograd.backward(out, grad_out)
        sync()
        return out

    return run


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    import manif_py

    info = machine_info()
    cuda = args.device.startswith("cuda")
    where = torch.cuda.get_device_name() if cuda else (f"{info['cpu']}, {info['cores']} cores, torch "
                                                        f"{torch.get_num_threads()} threads, manif_py "
                                                        f"{manif_py.get_num_threads()} threads")
    log(f"# SE3 forward+backward, N = {args.n:,}, float64, torch {torch.__version__}, {where}")
    data = to_device(make_data(args.n), args.device)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    ours_torch = "manif_py.torch (torch backend)"
    base = ours_torch if cuda else OURS
    contenders = {OURS: lambda: cases_ours("cpp"), ours_torch: lambda: cases_ours("torch"),
                  "plain torch formulas + autograd": cases_plain, "PyPose": cases_pypose}
    if cuda:
        del contenders[OURS]
    results: dict[str, dict[str, float | str]] = {}
    for name, make in contenders.items():
        results[name] = {}
        try:
            cases = make()
        except Exception as e:  # noqa: BLE001 (a peer that is not installed)
            log(f"   {name}: {na(e)}")
            results[name] = {op: "n/a" for op in OPS}
            continue
        for op in OPS:
            t0 = time.perf_counter()
            try:
                ns = time_batch(fwd_bwd(op, cases[op], data, sync), args.n, rounds=args.rounds)
            except Exception as e:  # noqa: BLE001
                ns = "n/a"
                log(f"   {name} {op}: {na(e)}")
            results[name][op] = ns
            log(f"   {name:34s} {op:8s} {fmt_ns(ns):>10s} ns/element  ({time.perf_counter() - t0:.1f} s)")

    header = ["SE3 fwd+bwd, ns/element"] + list(results)
    rows = []
    for op in OPS:
        ours = results[base][op]
        cells = [op]
        for name in results:
            v = results[name][op]
            ratio = None if isinstance(v, str) or isinstance(ours, str) else v / ours
            cells.append(fmt_ns(v) if name == base else f"{fmt_ns(v)} ({fmt_ratio(ratio)})")
        rows.append(cells)
    log("")
    log(markdown_table(header, rows))
    log(f"\n(ratio) = time / {base}; above 1 means slower than ours.")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"n": args.n, "machine": info, "results": results}, fh, indent=1)


if __name__ == "__main__":
    main()
