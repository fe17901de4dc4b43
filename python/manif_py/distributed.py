"""Process-group set-up and teardown for data-parallel training, shared by every
training loop of the package (equivariant classifiers, the registration network).

torchrun exports RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; without
them the run is a single process and nothing is initialised. The backend is gloo on
CPU and NCCL on CUDA.
"""
from __future__ import annotations

import gc
import os

import torch
import torch.distributed as dist


def env_world() -> tuple[int, int, int]:
    """(rank, world_size, local_rank) from the environment torchrun sets; (0, 1, 0) otherwise."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0))


def backend_for(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


def is_active() -> bool:
    return dist.is_available() and dist.is_initialized()


def init(device: torch.device, rank: int, world_size: int, init_method: str | None = None) -> bool:
    """Joins the process group when world_size > 1; returns whether it did."""
    if world_size <= 1:
        return False
    if not dist.is_initialized():
        kw = {} if init_method is None else {"init_method": init_method}
        dist.init_process_group(backend_for(device), rank=rank, world_size=world_size, **kw)
    return True


def init_from_env(device: torch.device) -> tuple[int, int]:
    """(rank, world_size), after joining the group torchrun describes (if any)."""
    rank, world, _ = env_world()
    init(device, rank, world)
    return rank, world


def cleanup() -> None:
    """Leaves the process group. Delete the DistributedDataParallel wrappers first
    (`del ddp_model`): their reducers hold work on the group, and destroying the group
    while they live can abort a rank at exit inside gloo's teardown."""
    gc.collect()
    if is_active():
        dist.destroy_process_group()


def all_sum(values: list[float], device: torch.device) -> list[float]:
    """Sums a few scalars over all ranks (identity in a single process)."""
    if not is_active():
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def mean_over_ranks(logs: dict[str, torch.Tensor]) -> dict[str, float]:
    """Logged scalar tensors averaged over all ranks (the global batch's values)."""
    values = torch.stack([v.detach().float() for v in logs.values()])
    if is_active():
        dist.all_reduce(values)
        values /= dist.get_world_size()
    return {k: float(v) for k, v in zip(logs, values)}


def barrier() -> None:
    if is_active():
        dist.barrier()
