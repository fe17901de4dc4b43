"""The run checkpoint of train-equivariant (OUT/checkpoint.pt): written and read as plain data.

The file holds a dict: format name and version, the run configuration, the model, optimiser
and scheduler states, the epoch, every RNG state, the history and the parameter count.
Reading unpickles plain data only (a crafted file cannot run code), checks the format and
version, every configuration value the model is built from (type and range) and the
weights (names and shapes against the configured model, built on the meta device; finite
values) before anything is allocated; anything else is a ValueError naming the file.
"""

from __future__ import annotations

import os

import torch

from .._torch_files import check_shapes, check_weights, config_value, load_plain, plain
from .layers import SpatialPool
from .models import MODEL_NAMES, TRAIN_ROTATIONS

FORMAT = "manif_py.equivariant"
FORMAT_VERSION = 1

# key -> (type, minimum or allowed values, required)
_SETTINGS = {
    "model": (str, MODEL_NAMES, True),
    "dtype": (str, ("float32", "float64"), True),
    "seed": (int, None, True),
    "epochs": (int, 1, True),
    "batch_size": (int, 1, True),
    "lr": (float, 0, True),
    "num_samples": (int, 1, True),
    "spd_std": (float, 0, True),
    "siren_lr_scale": (float, 0, False),
    "siren_width": (int, 1, False),
    "w0": (float, None, False),
    "train_rotation": (str, TRAIN_ROTATIONS, False),
    "pool": (str, SpatialPool.MODES, False),
    "input_margin": (int, 0, False),
    "rotate_input": (bool, None, False),
    "eval_offsets": (int, 1, False),
    "input_spd_std": (float, 0, False),
    "train_limit": (int, 1, False),
    "test_limit": (int, 1, False),
    "steps": (int, 1, False),
}


def save(obj: dict, path: str) -> None:
    """Writes ``obj`` (the checkpoint dict, without the format fields) atomically."""
    state = dict(format=FORMAT, format_version=FORMAT_VERSION, **obj)
    tmp = path + ".tmp"
    torch.save(plain(state), tmp)
    os.replace(tmp, path)  # never leave a half-written checkpoint behind


def check_config(cfg, path) -> dict:
    """The run configuration ``cfg`` of checkpoint ``path``, every setting of its type and range."""
    if not isinstance(cfg, dict):
        raise ValueError(f"checkpoint '{path}': 'config' must be a dict, got {type(cfg).__name__}")
    for key, (kind, allowed, required) in _SETTINGS.items():
        if key not in cfg or (not required and cfg[key] is None):
            if required:
                raise ValueError(f"checkpoint '{path}': config lacks '{key}'")
            continue
        if kind is str or kind is bool:
            if not isinstance(cfg[key], kind) or (allowed is not None and cfg[key] not in allowed):
                expected = f"one of {allowed}" if allowed is not None else f"a {kind.__name__}"
                raise ValueError(f"checkpoint '{path}': config['{key}'] must be {expected}, got {cfg[key]!r}")
        else:
            config_value(cfg, key, kind, path, "config", minimum=allowed)
    channels = cfg.get("channels")
    if not (isinstance(channels, (list, tuple)) and channels
            and all(isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in channels)):
        raise ValueError(f"checkpoint '{path}': config['channels'] must be a non-empty list of positive "
                         f"integers, got {channels!r}")
    return cfg


def read(path: str, build_model) -> dict:
    """The checkpoint dict of ``path`` after every check; ``build_model(cfg)`` builds the model
    whose state dict the weights must match (called on the meta device)."""
    state = load_plain(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"'{path}' is not a manif_py train-equivariant checkpoint")
    if state.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"checkpoint '{path}' has format version {state.get('format_version')!r}; this "
                         f"manif_py reads version {FORMAT_VERSION}: retrain it")
    cfg = check_config(state.get("config"), path)
    weights = state.get("model")
    check_weights(weights, path)
    try:
        with torch.device("meta"):  # shapes only: a huge size in the configuration allocates nothing
            expected = build_model(cfg).state_dict()
    except (RuntimeError, ValueError, TypeError, AssertionError) as exc:
        raise ValueError(f"checkpoint '{path}': its configuration does not build a model ({exc})") from None
    check_shapes(expected, weights, path)
    params = state.get("params")
    if not isinstance(params, int) or isinstance(params, bool) or params < 0:
        raise ValueError(f"checkpoint '{path}': 'params' must be a parameter count, got {params!r}")
    return state
