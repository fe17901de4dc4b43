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

import itertools
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import _threads
from . import kernels, poses
from .model import checkpoint
from .model.diffusion import reverse_diffusion
from .preprocess import check_cloud, degeneracy, diameter, frames_for, subsample, unoriented_normals
from .units import check_units

# A cloud flatter than this (smallest over largest principal spread) leaves a
# rotation about its normal undetermined.
DEGENERATE_RATIO = 0.02
# Candidate poses are compared by their fitness summed over these fractions of
# the diameter: the wide one tells basins apart on noisy partial scans, the
# tight ones break the ties that symmetric objects leave between basins.
SELECTION_DISTANCES = (0.01, 0.02, 0.05)
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
    # Score margin to the second-best distinct pose (staged pipeline; None otherwise).
    margin: float | None = None
    stage_seconds: dict = field(default_factory=dict)  # seconds per stage

    def to_dict(self):
        return {
            "transformation": self.transformation.tolist(),
            "fitness": self.fitness,
            "inlier_rmse": self.inlier_rmse,
            "inlier_distance": self.inlier_distance,
            "confident": self.confident,
            "warnings": self.warnings,
            "seconds": self.seconds,
            "margin": self.margin,
            "stage_seconds": self.stage_seconds,
        }


_CACHE = {}


def _network(path):
    key = path or "<default>"
    if key not in _CACHE:
        _CACHE[key] = checkpoint.load(path)
    return _CACHE[key]


def start_rotations(count: int) -> np.ndarray:
    """``count`` (at most 24) starting poses (count, 7): the identity, then the other
    rotations of the cube's symmetry group, which leave no rotation farther than
    62.8 degrees from one of them.

    The network is trained on rotations up to 45 degrees per axis (as RPM-Net and
    the paper's ModelNet setting); starting from the whole group brings every
    problem over SO(3) within that range for at least one start.
    """
    if not 1 <= count <= 24:
        raise ValueError(f"argument 'starts' must be between 1 and 24, got {count}")
    mats = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            M = np.zeros((3, 3))
            M[range(3), perm] = signs
            if np.linalg.det(M) > 0:
                mats.append(M)
    mats.sort(key=lambda M: -np.trace(M))  # the identity first, then quarter and half turns
    R = np.stack(mats[:count])
    return poses.pose_from_rt(R, np.zeros((count, 3)))


def _nearest_sq(source, model, Ts) -> np.ndarray:
    """(B, N) squared distances from each source point, moved by each pose Ts (B, 4, 4), to its
    nearest model point: one kd-tree over the model, all B moved copies queried in one batch."""
    Ts = np.asarray(Ts, dtype=np.float64)
    moved = np.einsum("bij,nj->bni", Ts[:, :3, :3], source) + Ts[:, None, :3, 3]
    _, d2 = kernels.knn(moved.reshape(-1, 3), model, 1)
    return d2[:, 0].reshape(len(Ts), -1)


def selection_scores(source, model, Ts, scale) -> np.ndarray:
    """Multi-scale fitness of every candidate pose Ts (B, 4, 4) (higher is better); scale: the diameter."""
    d2 = _nearest_sq(source, model, Ts)
    return sum(np.mean(d2 <= (f * scale) ** 2, axis=1) for f in SELECTION_DISTANCES)


def fitness_of(source, model, T, distance):
    """(fitness, inlier RMSE) of source under T against model, Open3D's definitions."""
    d2 = _nearest_sq(source, model, np.asarray(T)[None])[0]
    inliers = d2 <= distance * distance
    fitness = float(inliers.mean())
    rmse = float(np.sqrt(d2[inliers].mean())) if inliers.any() else 0.0
    return fitness, rmse


def estimate_pose(source, model, *, checkpoint_path: str | None = None, refine: bool = True,
                  diffusion: bool = True, noise: bool = False, starts: int = 24, refine_candidates: int = 2,
                  seed: int = 0,
                  inlier_distance: float | None = None,
                  icp_iterations: int = 30,
                  model_normals: np.ndarray | None = None, method: str = "diffusion", prepared=None,
                  model_cache=None) -> RegistrationResult:
    """Pose of ``source`` (a scan, (N, 3)) in the frame of ``model`` ((M, 3)).

    inlier_distance defaults to 2% of the model's diameter. Clouds must share
    units: a scan far larger or far smaller than the model is refused as a unit
    mismatch, and one that is somewhat too small, larger than the model or denser
    than it (swapped arguments) is flagged not confident (``units.check_units``).
    With ``starts`` > 1, one network call from each start rotation (one batch)
    screens the poses; after 10 ICP steps on the subsampled clouds, the
    ``refine_candidates`` that fit best (``selection_scores``) each get the reverse
    diffusion and the ICP refinement, and the best fit after refinement wins. ``starts=1`` is the
    paper's inference: the reverse diffusion from the identity. ``model_normals`` (M, 3):
    the model's normals for ICP when already known (``estimate_poses`` computes them once).

    ``method="staged"`` runs the training-free stages instead (``staged.staged_registration``:
    PPF hypotheses, coarse/fine ICP, verification), on ``prepared`` (a ``PreparedModel``) or
    on the model prepared once and kept at ``model_cache`` (an .npz; created if absent).
    Passing ``prepared`` or ``model_cache`` implies it.
    """
    if method not in ("diffusion", "staged"):
        raise ValueError(f"argument 'method' must be 'diffusion' or 'staged', got {method!r}")
    if method == "staged" or prepared is not None or model_cache is not None:
        _threads.apply()
        # Units as for the network path; with only ``prepared`` there is no raw model to compare.
        unit_warnings = [] if model is None else check_units(check_cloud(source, "source"),
                                                             check_cloud(model, "model"))
        from .prepared import load_or_prepare
        from .staged import staged_registration
        t_prep = time.perf_counter()
        if prepared is None:
            prepared = load_or_prepare(model, model_cache)
        prep_seconds = time.perf_counter() - t_prep
        result = staged_registration(source, prepared, seed=seed, inlier_distance=inlier_distance)
        result.stage_seconds = {"model": prep_seconds, **result.stage_seconds}
        result.seconds += prep_seconds
        if unit_warnings:  # any doubt about units or roles forbids a confident verdict
            result.warnings = list(result.warnings) + unit_warnings
            result.confident = False
        return result
    t0 = time.perf_counter()
    _threads.apply()  # torch and the C++ pools: the user's count, or the cores free right now
    source = check_cloud(source, "source")
    model = check_cloud(model, "model")
    warnings = check_units(source, model)  # ValueError for other units; warnings for swapped or tiny scans
    size_model = diameter(model)
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
    nsrc, ntgt = unoriented_normals(src), unoriented_normals(tgt)
    rep = lambda a, n: torch.from_numpy(np.repeat(a[None].astype(np.float32), n, axis=0))  # noqa: E731
    H_start = poses.identity(1)
    if starts > 1:
        # Screen: one network call from every start (one batch), keep the best fit.
        screened = reverse_diffusion(net, rep(src, starts), rep(nsrc, starts), rep(tgt, 1), rep(ntgt, 1),
                                     diff_cfg, diffusion=False, init=start_rotations(starts))
        # A few ICP steps on the subsampled clouds settle each candidate into its
        # basin, so that the fit compares basins rather than rough guesses.
        settled = [kernels.icp(src, tgt, ntgt, init=M, max_iterations=10, max_correspondence_distance=0.05,
                               method="point_to_plane")["matrix"] for M in poses.matrix_from_pose(screened)]
        # Scored on the whole clouds: subsampled ones are too sparse to tell basins apart.
        whole_src, whole_model = frames.normalise_source(source), frames.normalise_model(model)
        score = selection_scores(whole_src, whole_model, np.stack(settled), 1.0)
        H_start = poses.pose_from_matrix(np.stack(settled)[np.argsort(score)[::-1][: max(1, refine_candidates)]])
    # Reverse diffusion as published (from the identity), on the source moved by each screened
    # pose: all candidates in one batch.
    R_s, t_s = poses.rt_from_pose(H_start)
    moved = torch.from_numpy((np.einsum("bij,nj->bni", R_s, src) + t_s[:, None]).astype(np.float32))
    moved_n = torch.from_numpy(np.einsum("bij,nj->bni", R_s, nsrc).astype(np.float32))
    H_d = reverse_diffusion(net, moved, moved_n, rep(tgt, 1), rep(ntgt, 1), diff_cfg,
                            diffusion=diffusion, noise=noise, seed=seed)
    H_n = poses.matrix_from_pose(poses.compose(H_d, H_start))
    if refine and model_normals is None:
        model_normals = unoriented_normals(model)
    elif refine:
        model_normals = np.asarray(model_normals, dtype=np.float64)
        if model_normals.shape != model.shape:
            raise ValueError(f"argument 'model_normals' must have shape {model.shape} (one per model point), "
                             f"got {model_normals.shape}")
    T_nets = [frames.to_user(M) for M in H_n]
    refined = []
    for T in T_nets:
        if refine:
            for stage in (5 * distance, distance):  # wide basin first, then the inlier scale
                T = kernels.icp(source, model, model_normals, init=T, max_iterations=icp_iterations,
                                max_correspondence_distance=stage, method="point_to_plane")["matrix"]
        refined.append(T)
    # First maximum wins ties, as the candidates are ordered by their screening score.
    best = int(np.argmax(selection_scores(source, model, np.stack(refined), size_model)))
    T, T_net = refined[best], T_nets[best]
    fit, rmse = fitness_of(source, model, T, distance)
    confident = fit >= LOW_FITNESS and not warnings
    if fit < LOW_FITNESS:
        warnings.append(f"low fitness {fit:.2f}: fewer than {LOW_FITNESS:.0%} of the scan's points lie within "
                        f"{distance:.3g} of the model; the pose is likely wrong")
    return RegistrationResult(np.asarray(T), fit, rmse, distance, confident, warnings,
                              time.perf_counter() - t0, np.asarray(T_net))
