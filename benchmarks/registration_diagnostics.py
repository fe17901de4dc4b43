"""Where the shipped registration networks' error comes from: their fixed-point error and the
number of reverse-diffusion steps.

    python benchmarks/registration_diagnostics.py --pairs 40 --setting partial --rotation 45

On held-out problems (the evaluation's families and seeds), with the networks alone (no
screening, no ICP), median and 75th-percentile rotation error (degrees) of:
  * one network call started *at the true pose* (the network's fixed-point error: what it
    returns when there is nothing left to correct), for the diffusion-trained network and
    for the same network trained one-shot;
  * the reverse diffusion from the identity with T_inf = 2, 5 (published), 10, 20 steps,
    diffusion-trained network, noise off (the default), and T_inf = 5 with the noise on.
Writes benchmarks/out/registration_diagnostics.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

import numpy as np
import torch
from tqdm import tqdm

from manif_py.registration.model import checkpoint
from manif_py.registration.evaluation import metrics
from manif_py.registration import poses
from manif_py.registration.synthetic.dataset import held_out_problem, normalised_problem
from manif_py.registration.model.diffusion import reverse_diffusion

STEPS = (2, 5, 10, 20)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", type=int, default=40)
    p.add_argument("--setting", default="partial")
    p.add_argument("--rotation", default="45")
    p.add_argument("--out", default="benchmarks/out/registration_diagnostics.json")
    p.add_argument("--checkpoint", default=None, help="diffusion-trained network (default: the shipped one)")
    p.add_argument("--one-shot-checkpoint", default=None, help="one-shot network (default: the shipped one)")
    return p.parse_args(argv)


def rotation_errors(H: np.ndarray, H0: np.ndarray) -> np.ndarray:
    est, gt = poses.matrix_from_pose(H), poses.matrix_from_pose(H0)
    return np.array([metrics.rotation_error_deg(a, b) for a, b in zip(est, gt)])


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)
    paths = {"default": args.checkpoint or checkpoint.default_checkpoint_path(),
             "one_shot": args.one_shot_checkpoint or checkpoint.one_shot_checkpoint_path()}
    nets = {name: checkpoint.load(path) for name, path in paths.items()}
    errors = {k: [] for k in ["fixed_point_diffusion_net", "fixed_point_one_shot_net"] + [f"T_inf={s}" for s in STEPS]
              + ["T_inf=5, noise on"]}
    net, diff_cfg, _ = nets["default"]
    for i in tqdm(range(args.pairs), desc=f"{args.setting}:{args.rotation}", unit="pair"):
        pair = held_out_problem(i, args.setting, rotation=args.rotation)
        src, nsrc, tgt, ntgt, H0 = normalised_problem(pair, net.cfg.n_source, net.cfg.n_model,
                                                      np.random.default_rng(i))
        as_t = lambda a: torch.from_numpy(a[None].astype(np.float32))  # noqa: E731
        clouds = (as_t(src), as_t(nsrc), as_t(tgt), as_t(ntgt))
        with torch.no_grad():
            for name, key in (("default", "fixed_point_diffusion_net"), ("one_shot", "fixed_point_one_shot_net")):
                n, c, _ = nets[name]
                H = reverse_diffusion(n, *clouds, c, diffusion=False, init=H0[None])
                errors[key].append(rotation_errors(H, H0[None])[0])
            for s in STEPS:
                cfg = dataclasses.replace(diff_cfg, steps_infer=s)
                H = reverse_diffusion(net, *clouds, cfg, diffusion=True, seed=i)
                errors[f"T_inf={s}"].append(rotation_errors(H, H0[None])[0])
            H = reverse_diffusion(net, *clouds, dataclasses.replace(diff_cfg, steps_infer=5), diffusion=True, noise=True, seed=i)
            errors["T_inf=5, noise on"].append(rotation_errors(H, H0[None])[0])
    summary = {k: dict(median=float(np.median(v)), p75=float(np.percentile(v, 75))) for k, v in errors.items()}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(dict(args=vars(args), summary=summary, errors={k: list(map(float, v)) for k, v in errors.items()}),
                  f, indent=1)
    print(f"| {args.setting}:{args.rotation}, {args.pairs} problems | median rot. error (deg) | 75th pct (deg) |")
    print("|---|---|---|")
    for k, v in summary.items():
        print(f"| {k} | {v['median']:.1f} | {v['p75']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
