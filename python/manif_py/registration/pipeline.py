"""Pose estimation from a scan and an object model: network, diffusion, ICP.

    from manif_py.registration import estimate_pose
    result = estimate_pose(scan_points, model_points)
    result.transformation   # 4x4, maps the scan into the model's frame

The steps: check and normalise the clouds (``preprocess``), run the reverse
diffusion with the shipped (or a given) network from a few starting rotations,
refine each answer with point-to-plane ICP on the full clouds (the core's SE(3)
Jacobians, in C++), and keep the one that explains the scan best.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from . import checkpoint, kernels, poses
from .diffusion import register as reverse_diffusion
from .preprocess import check_cloud, degeneracy, diameter, frames_for, subsample, unoriented_normals

# A cloud flatter than this (smallest over largest principal spread) leaves a
# rotation about its normal undetermined.
DEGENERATE_RATIO = 0.02
# Accept a scan up to this many times the model's size (partial views are smaller).
MAX_SIZE_RATIO = 3.0
# Below this fitness the pose is reported but flagged as not trustworthy.
LOW_FITNESS = 0.3


@dataclass
class RegistrationResult:
    transformation: np.ndarray  # (4, 4): model ~ R scan + t
    fitness: float  # fraction of scan points within `inlier_distance` of the model
    inlier_rmse: float  # RMS distance of those points, in the clouds' units
    inlier_distance: float
    confident: bool
    warnings: list = field(default_factory=list)
    seconds: float = 0.0
    network_transformation: np.ndarray | None = None  # before refinement

    def to_dict(self):
        return {
            "transformation": self.transformation.tolist(),
            "fitness": self.fitness,
            "inlier_rmse": self.inlier_rmse,
            "inlier_distance": self.inlier_distance,
            "confident": self.confident,
            "warnings": self.warnings,
            "seconds": self.seconds,
        }


_CACHE = {}


def _network(path):
    key = path or "<default>"
    if key not in _CACHE:
        _CACHE[key] = checkpoint.load(path)
    return _CACHE[key]


def start_rotations(count: int) -> np.ndarray:
    """``count`` starting poses (count, 7): the identity, then rotations spread over SO(3).

    The denoiser is trained from every misalignment, but a few starts spread
    over SO(3) make a wrong basin far less likely for a nearly symmetric object.
    """
    starts = [np.array([0, 0, 0, 0, 0, 0, 1.0])]
    # Half-turns about the three axes and the cube's body diagonals.
    axes = [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 1), (1, -1, 1), (-1, 1, 1), (1, 1, -1)]
    for a in axes[: max(0, count - 1)]:
        a = np.asarray(a, dtype=float) / np.linalg.norm(a)
        angle = np.pi if len(starts) <= 3 else 2 * np.pi / 3
        starts.append(np.concatenate([[0, 0, 0], a * np.sin(angle / 2), [np.cos(angle / 2)]]))
    return np.stack(starts[:count])


def fitness_of(source, model, T, distance):
    """(fitness, inlier RMSE) of source under T against model, Open3D's definitions."""
    moved = source @ T[:3, :3].T + T[:3, 3]
    _, d2 = kernels.knn(moved, model, 1)
    inliers = d2[:, 0] <= distance * distance
    fitness = float(inliers.mean())
    rmse = float(np.sqrt(d2[inliers, 0].mean())) if inliers.any() else 0.0
    return fitness, rmse


def estimate_pose(source, model, *, checkpoint_path: str | None = None, refine: bool = True,
                  diffusion: bool = True, noise: bool = True, starts: int = 4, refine_candidates: int = 2,
                  seed: int = 0,
                  inlier_distance: float | None = None,
                  icp_iterations: int = 30) -> RegistrationResult:
    """Pose of ``source`` (a scan, (N, 3)) in the frame of ``model`` ((M, 3)).

    inlier_distance defaults to 2% of the model's diameter. Clouds must share
    units; a scan much larger than the model is refused as a unit mismatch.
    ``starts`` reverse diffusions run at once from different rotations; the
    ``refine_candidates`` answers that fit best (5% of the diameter, on the
    subsampled clouds) are refined by ICP, and the best fit after refinement wins.
    """
    t0 = time.perf_counter()
    source = check_cloud(source, "source")
    model = check_cloud(model, "model")
    warnings = []
    size_src, size_model = diameter(source), diameter(model)
    if size_model <= 0 or size_src <= 0:
        raise ValueError("argument 'source'/'model': all points coincide; there is nothing to register")
    if size_src > MAX_SIZE_RATIO * size_model or size_src < size_model / 1000:
        raise ValueError(f"the scan's size ({size_src:.4g}) and the model's ({size_model:.4g}) differ by a factor "
                         f"{max(size_src / size_model, size_model / size_src):.3g}: are they in the same units "
                         "(for example mm against m)?")
    for name, pts in (("source", source), ("model", model)):
        if degeneracy(pts) < DEGENERATE_RATIO:
            warnings.append(f"{name} is nearly planar or collinear: the rotation about its flat direction is "
                            "not determined")
    distance = inlier_distance if inlier_distance is not None else 0.02 * size_model

    net, diff_cfg, _ = _network(checkpoint_path)
    rng = np.random.default_rng(seed)
    frames = frames_for(source, model)
    src = frames.normalise_source(source[subsample(source, net.cfg.n_source, rng)])
    tgt = frames.normalise_model(model[subsample(model, net.cfg.n_model, rng)])
    starts = max(1, int(starts))
    to_t = lambda a: torch.from_numpy(np.repeat(a[None].astype(np.float32), starts, axis=0))
    H = reverse_diffusion(net, to_t(src), to_t(unoriented_normals(src)), to_t(tgt), to_t(unoriented_normals(tgt)),
                          diff_cfg, diffusion=diffusion, noise=noise, seed=seed, init=start_rotations(starts))
    # Rank the network's answers on the subsampled clouds (cheap), refine the best few.
    H_n = poses.matrix_from_pose(H)
    coarse = [fitness_of(src, tgt, M, 0.05)[0] for M in H_n]
    order = np.argsort(coarse)[::-1][: max(1, refine_candidates)]
    model_normals = unoriented_normals(model) if refine else None
    best = None
    for i in order:
        T_net = frames.to_user(H_n[i])
        T = T_net
        if refine:
            for stage in (5 * distance, distance):  # wide basin first, then the inlier scale
                T = kernels.icp(source, model, model_normals, init=T, max_iterations=icp_iterations,
                                max_correspondence_distance=stage, method="point_to_plane")["matrix"]
        fit, rmse = fitness_of(source, model, T, distance)
        if best is None or (fit, -rmse) > (best[1], -best[2]):
            best = (T, fit, rmse, T_net)
    T, fit, rmse, T_net = best
    confident = fit >= LOW_FITNESS and not warnings
    if fit < LOW_FITNESS:
        warnings.append(f"low fitness {fit:.2f}: fewer than {LOW_FITNESS:.0%} of the scan's points lie within "
                        f"{distance:.3g} of the model; the pose is likely wrong")
    return RegistrationResult(np.asarray(T), fit, rmse, distance, confident, warnings,
                              time.perf_counter() - t0, np.asarray(T_net))
