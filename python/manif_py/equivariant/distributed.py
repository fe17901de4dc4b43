"""Process-group setup for data-parallel training (torchrun or torch.multiprocessing).

torchrun exports RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT; without them
the run is a single process and nothing is initialised. The backend is gloo on
CPU and NCCL on CUDA.
"""
from __future__ import annotations

import os

import torch
import torch.distributed as dist


def env_world() -> tuple[int, int, int]:
    """(rank, world_size, local_rank) from the environment torchrun sets; (0, 1, 0) otherwise."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0))


def backend_for(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


def init(device: torch.device, rank: int, world_size: int, init_method: str | None = None) -> bool:
    """Joins the process group when world_size > 1; returns whether it did."""
    if world_size <= 1:
        return False
    if not dist.is_initialized():
        kw = {} if init_method is None else {"init_method": init_method}
        dist.init_process_group(backend_for(device), rank=rank, world_size=world_size, **kw)
    return True


def cleanup() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def all_sum(values: list[float], device: torch.device) -> list[float]:
    """Sums a few scalars over all ranks (identity in a single process)."""
    if not (dist.is_available() and dist.is_initialized()):
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
