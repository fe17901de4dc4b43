"""Registration metrics, in the conventions of RPM-Net and the BOP toolkit.

All poses are 4x4 matrices mapping the source (scan) into the model's frame.
Distances are reported as fractions of the model's diameter D (its bounding-box
diagonal), so numbers compare across objects and units.
"""

from __future__ import annotations

import numpy as np

from .. import kernels

ROTATION_THRESHOLDS_DEG = (5.0, 10.0, 20.0)
TRANSLATION_THRESHOLDS = (0.01, 0.02, 0.05)  # of D


def rotation_error_deg(T_est, T_gt) -> float:
    """Geodesic angle of R_gt^T R_est (isotropic rotation error)."""
    rel = T_gt[:3, :3].T @ T_est[:3, :3]
    return float(np.degrees(np.arccos(np.clip((np.trace(rel) - 1) / 2, -1.0, 1.0))))


def translation_error(T_est, T_gt, diameter) -> float:
    """|t_est - t_gt| / D."""
    return float(np.linalg.norm(T_est[:3, 3] - T_gt[:3, 3]) / diameter)


def _moved(points, T):
    return points @ T[:3, :3].T + T[:3, 3]


def one_sided_chamfer(source, model, T_est, diameter) -> float:
    """One-sided Chamfer distance / D from the moved scan to the model (a partial
    scan covers only part of the model, so the other side would punish the crop)."""
    _, d2 = kernels.knn(np.ascontiguousarray(_moved(source, T_est)), np.ascontiguousarray(model), 1)
    return float(np.sqrt(d2[:, 0]).mean() / diameter)


def evaluate_one(source, model, T_est, T_gt, diameter) -> dict:
    return {
        "rotation_error_deg": rotation_error_deg(T_est, T_gt),
        "translation_error": translation_error(T_est, T_gt, diameter),
        # ADD-S / D (kernels.add_s): the model carried into the scan's frame by both
        # inverse poses; symmetric objects are not punished for their symmetry.
        "add_s": kernels.add_s(np.ascontiguousarray(model, dtype=np.float64), np.linalg.inv(T_gt),
                               np.linalg.inv(T_est), diameter)["relative"],
        "one_sided_chamfer": one_sided_chamfer(source, model, T_est, diameter),
    }


def summarise(rows: list) -> dict:
    """Recalls (percent), median errors, ADD-S success and median time over a list of evaluate_one rows
    (each with a 'seconds' entry)."""
    rot = np.array([r["rotation_error_deg"] for r in rows])
    tra = np.array([r["translation_error"] for r in rows])
    out = {"count": len(rows)}
    for th in ROTATION_THRESHOLDS_DEG:
        out[f"recall_rot_{th:g}deg"] = float(100 * np.mean(rot < th))
    for th in TRANSLATION_THRESHOLDS:
        out[f"recall_trans_{100 * th:g}pct"] = float(100 * np.mean(tra < th))
    out["success_5deg_5pct"] = float(100 * np.mean((rot < 5) & (tra < 0.05)))
    out["add_s_below_0.1"] = float(100 * np.mean(np.array([r["add_s"] for r in rows]) < 0.1))
    out["median_rotation_error_deg"] = float(np.median(rot))
    out["mean_rotation_error_deg"] = float(np.mean(rot))
    out["median_translation_error"] = float(np.median(tra))
    out["mean_one_sided_chamfer"] = float(np.mean([r["one_sided_chamfer"] for r in rows]))
    out["median_ms"] = float(1000 * np.median([r["seconds"] for r in rows]))
    return out
