"""Saving and loading registration networks, with a format check.

A checkpoint is a torch file holding a dict: the format name and version, the
network and diffusion settings it was trained with, the weights, and (for
training checkpoints) the optimiser and RNG states. Loading reads plain data only
(tensors, dicts, numbers, strings: no pickled objects, so a crafted file cannot run
code), then checks the format and version, the types and ranges of the settings and
the weights (names, shapes, finite values) before building the network; anything
else is a ValueError naming the checkpoint.
"""

from __future__ import annotations

import dataclasses
import math
import os
from importlib import resources

import torch

from ..._torch_files import check_shapes, check_weights, config_value, load_plain, plain
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
    torch.save(plain(state), tmp)  # plain data only: load() refuses pickled objects
    os.replace(tmp, path)  # never leave a half-written checkpoint behind


def read(path: str) -> dict:
    """The raw checkpoint dict, after checking that it is one of ours and of this version."""
    state = load_plain(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"'{path}' is not a manif_py registration checkpoint")
    if state.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"checkpoint '{path}' has format version {state.get('format_version')!r}; this manif_py "
                         f"reads version {FORMAT_VERSION}: retrain it with `manif-py train-registration`")
    return state


def _section(state: dict, key: str, path) -> dict:
    section = state.get(key)
    if not isinstance(section, dict) or not all(isinstance(k, str) for k in section):
        raise ValueError(f"checkpoint '{path}': '{key}' must be a dict of settings, got {type(section).__name__}")
    return section


def _sigma_pair(cfg: dict, key: str, path) -> tuple:
    value = cfg.get(key)
    if not (isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0 for v in value)):
        raise ValueError(f"checkpoint '{path}': diffusion['{key}'] must be a pair of finite non-negative "
                         f"numbers (rotation, translation), got {value!r}")
    return tuple(float(v) for v in value)


def network_config(state: dict, path) -> NetworkConfig:
    """The checkpoint's NetworkConfig, every field of the right type and positive."""
    cfg = _section(state, "network", path)
    names = {f.name for f in dataclasses.fields(NetworkConfig)}
    unknown = sorted(set(cfg) - names)
    if unknown:
        raise ValueError(f"checkpoint '{path}': network has unknown settings {unknown}")
    values = {}
    for f in dataclasses.fields(NetworkConfig):
        kind = type(f.default)  # the defaults' types are the fields' types (int sizes, float radius)
        values[f.name] = config_value(cfg, f.name, kind, path, "network", minimum=1 if kind is int else None)
    if not values["radius"] > 0:
        raise ValueError(f"checkpoint '{path}': network['radius'] must be > 0, got {values['radius']!r}")
    if values["feature_dim"] % values["heads"]:
        raise ValueError(f"checkpoint '{path}': network['feature_dim'] ({values['feature_dim']}) must be a "
                         f"multiple of network['heads'] ({values['heads']})")
    return NetworkConfig(**values)


def diffusion_config(state: dict, path) -> DiffusionConfig:
    """The checkpoint's DiffusionConfig: positive step counts, offset >= 0, non-negative sigmas."""
    cfg = _section(state, "diffusion", path)
    names = {f.name for f in dataclasses.fields(DiffusionConfig)}
    unknown = sorted(set(cfg) - names)
    if unknown:
        raise ValueError(f"checkpoint '{path}': diffusion has unknown settings {unknown}")
    return DiffusionConfig(
        steps_train=config_value(cfg, "steps_train", int, path, "diffusion", minimum=1),
        schedule_offset=config_value(cfg, "schedule_offset", float, path, "diffusion", minimum=0),
        sigma_train=_sigma_pair(cfg, "sigma_train", path),
        steps_infer=config_value(cfg, "steps_infer", int, path, "diffusion", minimum=1),
        sigma_infer=_sigma_pair(cfg, "sigma_infer", path),
    )


def load(path: str | None = None):
    """(network in eval mode, DiffusionConfig, mode) from a checkpoint (default: the shipped one)."""
    path = path or default_checkpoint_path()
    state = read(path)
    net_cfg = network_config(state, path)
    diffusion = diffusion_config(state, path)
    mode = state.get("mode", "diffusion")
    if mode not in ("diffusion", "one_shot"):
        raise ValueError(f"checkpoint '{path}': mode must be 'diffusion' or 'one_shot', got {mode!r}")
    weights = state.get("weights")
    check_weights(weights, path)
    try:
        with torch.device("meta"):  # shapes only: a huge size in the settings allocates nothing
            expected = RegistrationNet(net_cfg).state_dict()
    except (RuntimeError, ValueError, AssertionError) as exc:
        raise ValueError(f"checkpoint '{path}': its network settings {net_cfg.to_dict()} do not build a "
                         f"network ({exc})") from None
    check_shapes(expected, weights, path)
    net = RegistrationNet(net_cfg)
    try:
        net.load_state_dict(weights)
    except RuntimeError as exc:
        raise ValueError(f"checkpoint '{path}' does not match this version's network: {exc}") from exc
    net.eval()
    return net, diffusion, mode
