"""Saving and loading registration networks, with a format check.

A checkpoint is a torch file holding a dict: the format name and version, the
network and diffusion settings it was trained with, the weights, and (for
training checkpoints) the optimiser and RNG states. Loading refuses anything
else with a clear message instead of a shape error deep inside torch.
"""

from __future__ import annotations

import os
from importlib import resources

import torch

from .diffusion import DiffusionConfig
from .network import NetworkConfig, RegistrationNet

FORMAT = "manif_py.registration"
FORMAT_VERSION = 1


def _shipped(name: str) -> str:
    return str(resources.files("manif_py.registration.model").joinpath("data", name))


def default_checkpoint_path() -> str:
    """The network shipped inside the package (see docs/registration.md for how it was trained)."""
    return _shipped("default_checkpoint.pt")


def one_shot_checkpoint_path() -> str:
    """The same network trained one-shot, shipped as the baseline of the evaluation."""
    return _shipped("one_shot_checkpoint.pt")


def save(path: str, net: RegistrationNet, diffusion: DiffusionConfig, mode: str, extra: dict | None = None):
    state = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "network": net.cfg.to_dict(),
        "diffusion": diffusion.to_dict(),
        "mode": mode,  # "diffusion" or "one_shot": how it was trained and is meant to run
        "weights": net.state_dict(),
    }
    state.update(extra or {})
    tmp = f"{path}.tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)  # never leave a half-written checkpoint behind


def read(path: str) -> dict:
    """The raw checkpoint dict, after checking that it is one of ours and of this version."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint '{path}' does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many kinds for corrupt files
        raise ValueError(f"checkpoint '{path}' cannot be read ({type(exc).__name__}: {exc})") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"'{path}' is not a manif_py registration checkpoint")
    if state.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"checkpoint '{path}' has format version {state.get('format_version')}; this manif_py "
                         f"reads version {FORMAT_VERSION}: retrain it with `manif-py train-registration`")
    return state


def load(path: str | None = None):
    """(network in eval mode, DiffusionConfig, mode) from a checkpoint (default: the shipped one)."""
    path = path or default_checkpoint_path()
    state = read(path)
    try:
        net = RegistrationNet(NetworkConfig(**state["network"]))
        net.load_state_dict(state["weights"])
        diffusion = DiffusionConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in state["diffusion"].items()})
    except (TypeError, RuntimeError, KeyError) as exc:
        raise ValueError(f"checkpoint '{path}' does not match this version's network: {exc}") from exc
    net.eval()
    return net, diffusion, state.get("mode", "diffusion")
