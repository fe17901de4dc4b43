"""``manif-py train-registration``: train the denoiser (or its one-shot baseline).

    manif-py train-registration --out runs/diffusion --steps 3000 --seed 0
    manif-py train-registration --out runs/one_shot --steps 3000 --seed 0 --one-shot
    torchrun --nproc_per_node 2 -m manif_py.registration.model.train --out runs/ddp ...

Every step draws fresh generated problems (nothing is downloaded). Sample
indices are a function of (step, rank), and a sample's diffusion noise of
(seed, sample index), so a run resumed from a checkpoint continues exactly as
if it had not stopped, ranks never train on the same sample, and two processes
with batch B follow the same trajectory as one process with batch 2B.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

from ... import distributed
from . import checkpoint
from ..synthetic.dataset import DataConfig, PairDataset, collate
from .diffusion import DiffusionConfig, TrainingObjective, noised_inputs
from .network import NetworkConfig, RegistrationNet


def parse_args(argv):
    p = argparse.ArgumentParser(prog="manif-py train-registration", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="run directory (checkpoints, metrics.json, loss.png)")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch-size", type=int, help="per process (default 8; 2 with --tiny)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--one-shot", action="store_true", help="train the one-shot baseline (no diffusion term)")
    p.add_argument("--correspondence-weight", type=float, default=1.0,
                   help="weight of the dense correspondence term (0: the published loss alone)")
    p.add_argument("--rotation", default="45",
                   help="training rotations: '45' (RPM-Net: up to 45 deg per axis) or 'so3'")
    p.add_argument("--resume", action="store_true", help="continue from OUT/train_state.pt")
    p.add_argument("--init", default=None, metavar="CHECKPOINT",
                   help="start from these weights (a model.pt or a shipped checkpoint trained the same way; "
                        "fine-tuning: a fresh optimiser and schedule, use a new --seed for fresh problems)")
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--n-source", type=int, default=NetworkConfig.n_source, help="scan points per problem")
    p.add_argument("--n-model", type=int, default=NetworkConfig.n_model, help="model points per problem")
    p.add_argument("--tiny", action="store_true", help="a seconds-long smoke configuration (tests)")
    return p.parse_args(argv)


class StepBatches(torch.utils.data.Sampler):
    """Index lists of the batches this rank trains on, from ``start`` to ``steps``."""

    def __init__(self, start, steps, batch, rank, world):
        self.start, self.steps, self.batch, self.rank, self.world = start, steps, batch, rank, world

    def __iter__(self):
        for step in range(self.start, self.steps):
            first = (step * self.world + self.rank) * self.batch
            yield list(range(first, first + self.batch))

    def __len__(self):
        return self.steps - self.start


def _lr_at(step, steps, base):
    warm = max(1, steps // 50)
    if step < warm:
        return base * (step + 1) / warm
    return base * 0.5 * (1 + np.cos(np.pi * (step - warm) / max(1, steps - warm)))


def plot_losses(history, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [h["step"] for h in history]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for key in ("one_shot", "noised"):
        if key in history[0]:
            ax.plot(steps, [h[key] for h in history], label=f"{key} L1")
    ax.set_xlabel("step")
    ax.set_ylabel("point L1 (object diameters)")
    ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def train(args):
    if args.tiny:
        args.steps, args.n_source, args.n_model = min(args.steps, 4), 96, 128
        args.batch_size = args.batch_size or 2
        args.checkpoint_every = 2
    args.batch_size = args.batch_size or 8
    if args.threads:
        torch.set_num_threads(args.threads)
    rank, world = distributed.init_from_env(torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    net_cfg = NetworkConfig(neighbours=12, n_source=args.n_source, n_model=args.n_model) if args.tiny else \
        NetworkConfig(n_source=args.n_source, n_model=args.n_model)
    net = RegistrationNet(net_cfg)
    mode = "one_shot" if args.one_shot else "diffusion"
    if args.init:
        net = _initial_network(args.init, net_cfg, mode)
    diff_cfg = DiffusionConfig()
    data_cfg = DataConfig(n_source=args.n_source, n_model=args.n_model, rotation=args.rotation)
    if args.optimizer == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9)
    state_path = os.path.join(args.out, "train_state.pt")
    start, history = 0, []
    if args.resume and os.path.exists(state_path):
        state = checkpoint.read(state_path)
        net.load_state_dict(state["weights"])
        opt.load_state_dict(state["optimiser"])
        start, history = state["step"], state["history"]
        if state["mode"] != mode:
            raise ValueError(f"--resume: {state_path} was trained as {state['mode']}, not {mode}")
    model = TrainingObjective(net, correspondence_weight=args.correspondence_weight)
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    data = PairDataset(size=args.steps * args.batch_size * world, seed=args.seed, cfg=data_cfg)
    loader = torch.utils.data.DataLoader(
        data, batch_sampler=StepBatches(start, args.steps, args.batch_size, rank, world),
        collate_fn=lambda items: collate(items, net_cfg.neighbours), num_workers=args.workers)
    bar = None
    if rank == 0:
        from tqdm import tqdm

        bar = tqdm(total=args.steps, initial=start, desc=f"train {mode}", unit="step", dynamic_ncols=True)
    t0 = time.time()
    step = start
    for batch in loader:
        for group in opt.param_groups:
            group["lr"] = _lr_at(step, args.steps, args.lr)
        rngs = [np.random.default_rng([args.seed, int(i)]) for i in batch["index"]]
        Ht = None if args.one_shot else noised_inputs(batch["H0"], rngs, diff_cfg)[0]
        loss, logs = model(batch, Ht)
        logs = distributed.mean_over_ranks(logs)
        opt.zero_grad(set_to_none=True)
        loss.backward()  # under DDP, gradients are averaged over ranks here
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        step += 1
        logs["step"] = step
        history.append(logs)
        if bar is not None:
            bar.update(1)
            bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items() if k != "step"})
        if rank == 0 and (step % args.checkpoint_every == 0 or step == args.steps):
            checkpoint.save(state_path, net, diff_cfg, mode,
                            {"optimiser": opt.state_dict(), "step": step, "history": history, "args": vars(args)})
    if bar is not None:
        bar.close()
    if rank == 0:
        final = os.path.join(args.out, "model.pt")
        checkpoint.save(final, net, diff_cfg, mode, {"args": vars(args), "step": step})
        recent = history[-min(len(history), 50):]
        metrics = {
            "mode": mode, "steps": step, "world_size": world, "batch_per_process": args.batch_size,
            "seconds": time.time() - t0, "parameters": net.parameter_count(),
            "final_loss": {k: float(np.mean([h[k] for h in recent])) for k in recent[0] if k != "step"} if recent else {},
            "network": net_cfg.to_dict(), "diffusion": diff_cfg.to_dict(), "seed": args.seed,
        }
        with open(os.path.join(args.out, "metrics.json"), "w") as f:
            json.dump({"summary": metrics, "history": history}, f, indent=1)
        if history:
            plot_losses(history, os.path.join(args.out, "loss.png"))
        print(f"saved {final}  ({metrics['parameters']} parameters, {metrics['seconds']:.0f} s)")
    del model  # the DDP wrapper goes before the process group (see distributed.cleanup)
    distributed.cleanup()
    return net


def _initial_network(path, net_cfg, mode):
    """The network of checkpoint ``path``, checked against this run's sizes and training mode."""
    net, _, trained_as = checkpoint.load(path)
    if net.cfg != net_cfg:
        raise ValueError(f"--init: {path} has network settings {net.cfg.to_dict()}, this run {net_cfg.to_dict()}")
    if trained_as != mode:
        raise ValueError(f"--init: {path} was trained as {trained_as}, this run trains {mode}")
    return net.train()


def main(argv=None):
    train(parse_args(sys.argv[1:] if argv is None else argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
