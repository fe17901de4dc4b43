"""Many scans of one object: the model's side of the work done once, then each scan.

    from manif_py.registration import estimate_poses
    results = estimate_poses([scan_a, scan_b], model)   # one RegistrationResult per scan

What a model costs every call, checked and paid here once: its input checks and its
normals for ICP (the network is cached by ``pipeline`` already).
"""

from __future__ import annotations

from typing import Callable, Iterable, List, Optional, Union

import numpy as np

from .pipeline import RegistrationResult, estimate_pose
from .preprocess import check_cloud, unoriented_normals


def estimate_poses(scans: Iterable, model, *, errors: str = "raise",
                   progress: Optional[Callable[[Iterable], Iterable]] = None,
                   **options) -> List[Union[RegistrationResult, Exception]]:
    """Pose of each scan (each (N_i, 3)) in the frame of ``model`` ((M, 3)): a list with one
    entry per scan, in order. ``options`` are ``estimate_pose``'s.

    errors: "raise" stops at the first scan that is refused (ValueError / TypeError);
    "keep" puts that exception in the scan's place and goes on (a bad model still raises).
    progress: wraps the iteration over scans, for example ``tqdm.tqdm``.
    """
    if errors not in ("raise", "keep"):
        raise ValueError(f"argument 'errors' must be 'raise' or 'keep', got {errors!r}")
    if "model_normals" in options:
        raise TypeError("estimate_poses computes 'model_normals' itself; do not pass it")
    model = check_cloud(model, "model")
    staged = (options.get("method") == "staged" or options.get("prepared") is not None
              or options.get("model_cache") is not None)
    if staged and options.get("prepared") is None:  # the staged method: the model prepared (or loaded) once
        from .prepared import load_or_prepare

        options["prepared"] = load_or_prepare(model, options.pop("model_cache", None))
        options.pop("model_cache", None)
    elif not staged and options.get("refine", True):
        options["model_normals"] = unoriented_normals(model)
    results = []  # scans are taken one at a time: a generator of file reads keeps one scan in memory
    for scan in (progress(scans) if progress is not None else scans):
        try:
            results.append(estimate_pose(scan, model, **options))
        except (ValueError, TypeError) as exc:
            if errors == "raise":
                raise
            results.append(exc)
    return results
