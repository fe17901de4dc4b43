"""Reading torch checkpoint files without running code from them.

``torch.load(weights_only=False)`` unpickles arbitrary objects, so a crafted file runs
code (a ``__reduce__`` payload) before any format check can look at it. Every loader in
the package goes through :func:`load_plain` instead: the file must be a torch zip
archive, and it is unpickled with torch's restricted unpickler (tensors, dicts, lists,
tuples, strings and numbers only). Anything else is a ValueError naming the file.
"""

from __future__ import annotations

import math
import os
import pickle

import numpy as np
import torch

_ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive (the default since torch 1.6)


def load_plain(path, what: str = "checkpoint"):
    """The object saved in torch file ``path``, read as plain data (tensors on the CPU).

    FileNotFoundError if it does not exist; ValueError naming ``path`` if it is not a torch
    zip archive, is corrupt, or holds objects other than tensors and plain Python data.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what} '{path}' does not exist")
    if not os.path.isfile(path):
        raise ValueError(f"{what} '{path}' is not a file")
    with open(path, "rb") as fh:
        magic = fh.read(len(_ZIP_MAGIC))
    if magic != _ZIP_MAGIC:
        raise ValueError(f"{what} '{path}' is not a torch checkpoint (a zip archive written by torch.save)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{what} '{path}' holds objects other than tensors and plain data; "
                         f"refused without running them ({first})") from None
    except Exception as exc:  # torch raises many kinds for corrupt archives
        raise ValueError(f"{what} '{path}' cannot be read ({type(exc).__name__}: {exc})") from None


def plain(obj):
    """``obj`` with numpy scalars and arrays turned into Python numbers and tensors, so that what
    is saved can be read back by :func:`load_plain` (which refuses pickled numpy objects).
    Containers without numpy inside are returned as they are (a state dict keeps its metadata)."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(obj))
    if isinstance(obj, dict):
        items = {k: plain(v) for k, v in obj.items()}
        return obj if all(items[k] is v for k, v in obj.items()) else items
    if type(obj) in (list, tuple):
        items = [plain(v) for v in obj]
        return obj if all(a is b for a, b in zip(items, obj)) else type(obj)(items)
    return obj


def check_weights(weights, path, what: str = "checkpoint") -> None:
    """``weights`` must be a state dict: str keys, finite floating tensors (integer buffers allowed)."""
    if not isinstance(weights, dict) or not weights:
        raise ValueError(f"{what} '{path}': its weights are not a non-empty dict of tensors")
    for name, value in weights.items():
        if not isinstance(name, str) or not isinstance(value, torch.Tensor):
            raise ValueError(f"{what} '{path}': weight {name!r} is not a named tensor")
        if value.is_complex() or value.dtype == torch.bool:
            raise ValueError(f"{what} '{path}': weight {name!r} has dtype {value.dtype}, expected a float dtype")
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise ValueError(f"{what} '{path}': weight {name!r} contains NaN or inf")


def check_shapes(expected: dict, weights: dict, path, what: str = "checkpoint") -> None:
    """The weights must have exactly the names and shapes of ``expected`` (a state dict built on
    the meta device, so that a nonsense size in the configuration is caught before allocating)."""
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    if missing or unexpected:
        raise ValueError(f"{what} '{path}' does not match this version's network: "
                         f"missing weights {missing[:5]}, unexpected weights {unexpected[:5]}")
    for name, ref in expected.items():
        if tuple(ref.shape) != tuple(weights[name].shape):
            raise ValueError(f"{what} '{path}' does not match this version's network: weight {name!r} has "
                             f"shape {tuple(weights[name].shape)}, its configuration implies {tuple(ref.shape)}")


def config_value(cfg: dict, key: str, kind: type, path, section: str, minimum=None, what: str = "checkpoint"):
    """cfg[key] checked to be of ``kind`` (int excludes bool; float accepts int) and >= minimum."""
    if key not in cfg:
        raise ValueError(f"{what} '{path}': {section} lacks '{key}'")
    value = cfg[key]
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise ValueError(f"{what} '{path}': {section}['{key}'] must be a finite {kind.__name__}, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} '{path}': {section}['{key}'] must be >= {minimum}, got {value!r}")
    return value
