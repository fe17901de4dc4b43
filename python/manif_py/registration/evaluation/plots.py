"""Pictures of a registration that a person can read at a glance."""

from __future__ import annotations

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _thin(points, n, seed=0):
    if len(points) <= n:
        return points
    return points[np.random.default_rng(seed).choice(len(points), n, replace=False)]


def plot_registration(source, model, T, path, title="", T_before=None, max_points=2500):
    """Write a before/after picture: the model in grey, the scan in red.

    Left: the scan where it was given (T_before, default the identity). Right:
    the scan moved by T onto the model. Both panels share the viewpoint and the
    axis limits, so what moved is what changed.
    """
    plt = _pyplot()
    src = _thin(np.asarray(source, dtype=float), max_points)
    mdl = _thin(np.asarray(model, dtype=float), max_points, seed=1)
    T_before = np.eye(4) if T_before is None else T_before
    before = src @ T_before[:3, :3].T + T_before[:3, 3]
    after = src @ T[:3, :3].T + T[:3, 3]
    everything = np.concatenate([before, after, mdl])
    centre = 0.5 * (everything.max(0) + everything.min(0))
    half = 0.5 * (everything.max(0) - everything.min(0)).max()
    fig = plt.figure(figsize=(10, 5))
    for i, (pts, label) in enumerate(((before, "before"), (after, "after"))):
        ax = fig.add_subplot(1, 2, i + 1, projection="3d")
        ax.scatter(*mdl.T, s=1, c="0.55", alpha=0.5, label="model")
        ax.scatter(*pts.T, s=2, c="tab:red", alpha=0.8, label="scan")
        for set_lim, c in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), centre):
            set_lim(c - half, c + half)
        ax.set_box_aspect((1, 1, 1))
        ax.view_init(elev=25, azim=-60)
        ax.set_title(label)
        ax.legend(loc="upper left", markerscale=4, fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
