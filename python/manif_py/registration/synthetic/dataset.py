"""Training and evaluation batches for the network, generated on the fly.

Sample i of a training dataset with base seed s is the registration problem
``settings.make_pair(train_seed(s, i), ...)``, on the training shape families;
evaluation problem i is ``held_out_problem(i, ...)``, on the held-out families and
seeds. Nothing is downloaded or stored, every sample is reproducible, and two
workers or two ranks never share one by accident (each reads its own indices).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import poses
from ..model.neighbourhoods import knn_indices
from ..preprocess import frames_for, subsample, unoriented_normals
from . import settings, shapes

# Training mixes the settings the evaluation asks for.
DEFAULT_MIX = (("partial", 0.5), ("single_view", 0.25), ("noisy", 0.25))


@dataclass(frozen=True)
class DataConfig:
    n_source: int = 256
    n_model: int = 384
    rotation: str = "45"
    mix: tuple = DEFAULT_MIX


def train_seed(seed: int, i: int) -> int:
    """The generator seed of training sample i of run seed ``seed`` (always in TRAIN_SEEDS)."""
    return (seed * 1_000_003 + int(i)) % len(shapes.TRAIN_SEEDS)


def held_out_problem(i: int, setting: str, rotation: str = "so3", **kwargs) -> dict:
    """Evaluation problem i: held-out shape families and seeds, never seen in training."""
    return settings.make_pair(shapes.TEST_SEEDS[int(i)], setting, rotation=rotation, **kwargs)


def normalised_problem(pair: dict, n_source: int, n_model: int, rng: np.random.Generator):
    """A generated or loaded pair -> float32 clouds in the network's frame, normals, and the true pose (7,)."""
    frames = frames_for(pair["source"], pair["model"])
    src = frames.normalise_source(pair["source"][subsample(pair["source"], n_source, rng)])
    tgt = frames.normalise_model(pair["model"][subsample(pair["model"], n_model, rng)])
    H0 = poses.pose_from_matrix(frames.to_normalised(pair["T_gt"])[None])[0]
    return src, unoriented_normals(src), tgt, unoriented_normals(tgt), H0


class PairDataset(torch.utils.data.Dataset):
    """Length-``size`` view of the infinite stream of generated problems."""

    def __init__(self, size: int, seed: int, cfg: DataConfig = DataConfig()):
        self.size, self.seed, self.cfg = size, seed, cfg
        names = [m[0] for m in cfg.mix]
        weights = np.array([m[1] for m in cfg.mix], dtype=float)
        self._names, self._cdf = names, np.cumsum(weights / weights.sum())

    def __len__(self):
        return self.size

    def __getitem__(self, i):
        seed = train_seed(self.seed, i)
        rng = np.random.default_rng([self.seed, int(i)])
        setting = self._names[int(np.searchsorted(self._cdf, rng.random(), side="right"))]
        pair = settings.make_pair(seed, setting, rotation=self.cfg.rotation, families=shapes.TRAIN_FAMILIES)
        return (*normalised_problem(pair, self.cfg.n_source, self.cfg.n_model, rng), int(i))


def collate(items, neighbours: int):
    """Stack samples into a batch dict, with the neighbour indices the network needs."""
    src, nsrc, tgt, ntgt, H0, index = zip(*items)
    out = {
        "src": torch.from_numpy(np.stack(src).astype(np.float32)),
        "src_normals": torch.from_numpy(np.stack(nsrc).astype(np.float32)),
        "tgt": torch.from_numpy(np.stack(tgt).astype(np.float32)),
        "tgt_normals": torch.from_numpy(np.stack(ntgt).astype(np.float32)),
        "H0": np.stack(H0),
        "index": np.array(index),
    }
    out["src_idx"] = knn_indices(out["src"], neighbours)
    out["tgt_idx"] = knn_indices(out["tgt"], neighbours)
    return out
