"""Train an affine-equivariant (or plain CNN) digit classifier on untransformed MNIST digits.

    manif-py train-equivariant --model gl2 --epochs 6 --batch-size 64 --seed 0 --out runs/gl2_s0
    torchrun --nproc_per_node 2 -m manif_py.equivariant.train --model gl2 --out runs/gl2_ddp

Writes, in --out: checkpoint.pt after every epoch (model, optimiser, scheduler,
epoch, every RNG state; --resume continues from it bit for bit), metrics.json
(config, parameter count, per-epoch loss / accuracy / time) and config.json.
--batch-size is the global batch: with N processes each takes batch/N digits of
the same global batch (DistributedSampler), so N processes follow the same
trajectory as one.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data.distributed import DistributedSampler

from .. import distributed
from . import data
from .layers import SpatialPool
from .models import MODEL_NAMES, TRAIN_ROTATIONS, build_model, count_parameters

# Defaults of a full run. On one CPU thread an equivariant model trains in ~6.5 min and evaluates
# in ~8 min (4 rotation offsets); equivariant_compare.py --jobs 2 runs the four models of one seed
# in ~23 min on 2 cores (docs/equivariant.md).
FULL = dict(channels=(16, 16, 16), num_samples=4, spd_std=0.05, epochs=10, batch_size=32, lr=3e-3, siren_lr_scale=0.03,
            pool="blurmax", input_margin=4, rotate_input=True, eval_offsets=4, input_spd_std=0.3)
# --tiny: a smoke run of a few seconds (tests, CI).
TINY = dict(FULL, channels=(4, 4, 4), epochs=1, train_limit=128, test_limit=64, siren_width=16)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="manif-py train-equivariant", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=MODEL_NAMES, required=True)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None, help="global batch size (all processes together)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="run directory (checkpoint.pt, metrics.json)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--tiny", action="store_true", help="tiny model and data subset: a smoke run")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--channels", type=int, nargs="+", default=None)
    p.add_argument("--num-samples", type=int, default=None, help="group samples per layer in training")
    p.add_argument("--spd-std", type=float, default=None, help="spread of the SPD factor of the samples")
    p.add_argument("--siren-lr-scale", type=float, default=None, help="learning-rate factor of the SIREN kernels")
    p.add_argument("--w0", type=float, default=None, help="SIREN frequency")
    p.add_argument("--train-rotation", choices=TRAIN_ROTATIONS, default=None,
                   help="rotation factors of the training samples (see EquivariantNet)")
    p.add_argument("--pool", choices=SpatialPool.MODES, default=None,
                   help="spatial pooling of the equivariant models (blurmax: anti-aliased max)")
    p.add_argument("--input-margin", type=int, default=None, help="zero pixels around the input (equivariant models)")
    p.add_argument("--rotate-input", action=argparse.BooleanOptionalAction, default=None,
                   help="draw the samples' rotation offset in [0, 90) deg per digit as a rotation of the input "
                        "(EquivariantNet's rotate_input)")
    p.add_argument("--input-spd-std", type=float, default=None,
                   help="with --rotate-input: spread of the SPD factor of the input offset (EquivariantNet's "
                        "input_spd_std; 0: rotation only)")
    p.add_argument("--train-limit", type=int, default=None, help="train on this many digits (random subset)")
    p.add_argument("--test-limit", type=int, default=None, help="report clean accuracy on this many test digits")
    p.add_argument("--steps", type=int, default=None, help="stop each epoch after this many steps (tests)")
    p.add_argument("--stop-after", type=int, default=None,
                   help="leave after this many epochs in this invocation (time-sliced jobs; --resume continues)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads per process")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size", "num_samples", "train_limit", "test_limit", "steps", "threads",
                 "stop_after"):
        v = getattr(args, name)
        if v is not None and v < 1:
            raise ValueError(f"argument '--{name.replace('_', '-')}' must be >= 1, got {v}")
    return args


def make_config(args: argparse.Namespace) -> dict:
    """The full run configuration: preset (full or tiny) overridden by explicit arguments."""
    cfg = dict(TINY if args.tiny else FULL)
    cfg.update(model=args.model, seed=args.seed, dtype=args.dtype, tiny=args.tiny)
    for name in ("epochs", "batch_size", "lr", "num_samples", "spd_std", "train_limit", "test_limit", "steps",
                 "siren_lr_scale", "w0", "train_rotation", "pool", "input_margin", "rotate_input",
                 "input_spd_std"):
        v = getattr(args, name)
        if v is not None:
            cfg[name] = v
    if not cfg.get("rotate_input") and args.input_spd_std is None:
        cfg["input_spd_std"] = 0.0   # the SPD factor extends the input rotation: off with it
    if args.channels is not None:
        cfg["channels"] = tuple(args.channels)
    cfg["channels"] = list(cfg["channels"])
    return cfg


# Model options a configuration may set; absent keys (older runs) keep the model's defaults.
OPTIONAL_MODEL_KEYS = ("siren_width", "w0", "train_rotation", "pool", "input_margin", "rotate_input", "eval_offsets",
                       "input_spd_std")


def model_kwargs(cfg: dict) -> dict:
    kw = dict(channels=tuple(cfg["channels"]), num_samples=cfg["num_samples"], spd_std=cfg["spd_std"])
    for key in OPTIONAL_MODEL_KEYS:
        if key in cfg:
            kw[key] = cfg[key]
    return kw


def make_model(cfg: dict) -> torch.nn.Module:
    model = build_model(cfg["model"], **model_kwargs(cfg))
    return model.to(getattr(torch, cfg["dtype"]))


def train_subset(num_train: int, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """(kept, left out): sorted indices of the --train-limit subset of the training digits and of
    the rest (the validation digits of benchmarks/equivariant_validation.py)."""
    order = np.random.default_rng(1).permutation(num_train)
    return np.sort(order[:limit]), np.sort(order[limit:])


def load_data(cfg: dict):
    """Train and test tensors of the configured subset sizes."""
    x_tr, y_tr, x_te, y_te = data.train_test_digits(seed=0)
    if cfg.get("train_limit"):
        keep, _ = train_subset(len(x_tr), cfg["train_limit"])
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    if cfg.get("test_limit"):
        keep = np.sort(np.random.default_rng(2).permutation(len(x_te))[: cfg["test_limit"]])
        x_te, y_te = x_te[keep], y_te[keep]
    dt = getattr(torch, cfg["dtype"])
    return (torch.from_numpy(x_tr).to(dt), torch.from_numpy(y_tr), torch.from_numpy(x_te).to(dt), torch.from_numpy(y_te))


def rng_state(model) -> dict:
    return dict(torch=torch.get_rng_state(), numpy=np.random.get_state(), python=random.getstate(),
                samples=model.sample_generator.get_state() if hasattr(model, "sample_generator") else None)


def set_rng_state(state: dict, model) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if state.get("samples") is not None:
        model.sample_generator.set_state(state["samples"])


def seed_everything(seed: int, model) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)
    if hasattr(model, "sample_generator"):
        model.sample_generator.manual_seed(seed)


@torch.no_grad()
def accuracy(model, x: torch.Tensor, y: torch.Tensor, device, batch: int = 32) -> float:
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        correct += int((model(x[i:i + batch].to(device)).argmax(1).cpu() == y[i:i + batch]).sum())
    return correct / len(x)


def progress_accuracy(model, x: torch.Tensor, y: torch.Tensor, device, final: bool) -> tuple[float, int | None]:
    """(clean test accuracy, rotation offsets used) after an epoch. Before the last epoch a model with
    test-time rotation offsets uses one (a progress figure at a quarter of the cost: the offsets'
    passes took a quarter of the training time); after the last, all of them, as evaluate-equivariant."""
    offsets = getattr(model, "eval_offsets", None)
    if offsets is None or not getattr(model, "rotate_input", False):
        return accuracy(model, x, y, device), None
    model.set_eval_offsets(offsets if final else 1)
    try:
        return accuracy(model, x, y, device), model.eval_offsets
    finally:
        model.set_eval_offsets(offsets)


def _save_atomic(obj, path: str) -> None:
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _write_json(obj, path: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


def train(cfg: dict, out: str, resume: bool = False, rank: int = 0, world_size: int = 1,
          device: str | None = None, init_method: str | None = None, quiet: bool = False,
          stop_after: int | None = None) -> dict:
    """Trains one model as rank ``rank`` of ``world_size`` processes.

    With ``resume`` and OUT/checkpoint.pt present, the run continues with the checkpoint's configuration.
    Returns dict(config, params, history, model).
    """
    ckpt_path = os.path.join(out, "checkpoint.pt")
    ckpt = None
    if resume and os.path.exists(ckpt_path):
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        if ckpt["config"]["model"] != cfg["model"]:
            raise ValueError(f"argument '--resume': {ckpt_path} holds a {ckpt['config']['model']!r} run, "
                             f"not {cfg['model']!r}")
        cfg = ckpt["config"]
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if dev.type == "cuda" and world_size > 1:
        dev = torch.device("cuda", rank % torch.cuda.device_count())
    is_dist = distributed.init(dev, rank, world_size, init_method)
    main_rank = rank == 0
    if cfg["batch_size"] % world_size:
        raise ValueError(f"argument '--batch-size' must be divisible by the number of processes {world_size}, "
                         f"got {cfg['batch_size']}")
    os.makedirs(out, exist_ok=True)
    x_tr, y_tr, x_te, y_te = load_data(cfg)

    torch.manual_seed(cfg["seed"])
    model = make_model(cfg).to(dev)
    seed_everything(cfg["seed"], model)
    params = count_parameters(model)
    # A SIREN kernel's value moves with the sum of its ~60 read-out weights, so one Adam step
    # changes it far more than one step on a plain conv tap: its weights take a smaller rate.
    siren = [p for n, p in model.named_parameters() if ".kernel." in n]
    rest = [p for n, p in model.named_parameters() if ".kernel." not in n]
    scale = cfg.get("siren_lr_scale", 1.0)
    groups = [dict(params=rest, lr=cfg["lr"])] + ([dict(params=siren, lr=cfg["lr"] * scale)] if siren else [])
    optim = torch.optim.Adam(groups, lr=cfg["lr"])
    per_rank = cfg["batch_size"] // world_size
    sampler = DistributedSampler(range(len(x_tr)), num_replicas=world_size, rank=rank, shuffle=True,
                                 seed=cfg["seed"], drop_last=False)
    steps_per_epoch = -(-len(sampler) // per_rank)
    if cfg.get("steps"):
        steps_per_epoch = min(steps_per_epoch, cfg["steps"])
    sched = torch.optim.lr_scheduler.OneCycleLR(optim, max_lr=[g["lr"] for g in groups], total_steps=cfg["epochs"] * steps_per_epoch,
                                                pct_start=0.15)
    history, start_epoch = [], 0
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        optim.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        set_rng_state(ckpt["rng"], model)
        history, start_epoch = ckpt["history"], ckpt["epoch"] + 1
    if hasattr(model, "data_shard"):
        model.data_shard = (rank, world_size)
    net = DistributedDataParallel(model) if is_dist else model
    if main_rank:
        _write_json(cfg, os.path.join(out, "config.json"))
        if not quiet:
            print(f"[{cfg['model']}] {params:,} parameters; {len(x_tr)} train digits; "
                  f"{world_size} process(es) on {dev}", file=sys.stderr)

    last_epoch = cfg["epochs"] if stop_after is None else min(cfg["epochs"], start_epoch + stop_after)
    for epoch in range(start_epoch, last_epoch):
        sampler.set_epoch(epoch)
        order = torch.tensor(list(iter(sampler)), dtype=torch.long)
        net.train()
        t0 = time.time()
        sums = [0.0, 0.0, 0.0]  # loss * n, correct, n
        bar = None
        if main_rank and not quiet:
            from tqdm import tqdm

            bar = tqdm(total=steps_per_epoch, desc=f"{cfg['model']} epoch {epoch + 1}/{cfg['epochs']}", leave=False,
                       file=sys.stderr)
        for step in range(steps_per_epoch):
            idx = order[step * per_rank:(step + 1) * per_rank]
            xb, yb = x_tr[idx].to(dev), y_tr[idx].to(dev)
            logits = net(xb)
            loss = F.cross_entropy(logits, yb)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            sched.step()
            sums[0] += float(loss.detach()) * len(idx)
            sums[1] += float((logits.argmax(1) == yb).sum())
            sums[2] += len(idx)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{float(loss.detach()):.3f}")
        if bar is not None:
            bar.close()
        loss_sum, correct, n = distributed.all_sum(sums, dev)
        record = dict(epoch=epoch + 1, train_loss=loss_sum / n, train_acc=correct / n, seconds=time.time() - t0)
        if main_rank:
            record["test_acc_clean"], record["test_offsets"] = progress_accuracy(
                model, x_te, y_te, dev, final=epoch + 1 == cfg["epochs"])
            history.append(record)
            _save_atomic(dict(model=model.state_dict(), optimizer=optim.state_dict(), scheduler=sched.state_dict(),
                              epoch=epoch, rng=rng_state(model), config=cfg, history=history, params=params),
                         ckpt_path)
            _write_json(dict(config=cfg, params=params, world_size=world_size, history=history,
                             final=history[-1]), os.path.join(out, "metrics.json"))
            if not quiet:
                print(f"[{cfg['model']}] epoch {epoch + 1}: loss {record['train_loss']:.4f} "
                      f"train {record['train_acc']:.3f} test(clean) {record['test_acc_clean']:.3f} "
                      f"{record['seconds']:.1f}s", file=sys.stderr)
        else:
            history.append(record)
        distributed.barrier()
    del net  # the DDP wrapper goes before the process group (see distributed.cleanup)
    distributed.cleanup()
    return dict(config=cfg, params=params, history=history, model=model)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    rank, world, _ = distributed.env_world()
    train(make_config(args), args.out, resume=args.resume, rank=rank, world_size=world, device=args.device,
          quiet=args.quiet, stop_after=args.stop_after)
    return 0


if __name__ == "__main__":
    sys.exit(main())
