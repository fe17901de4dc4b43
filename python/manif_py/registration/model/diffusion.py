"""Diffusion on SE(3) around a registration network (Jiang et al., NeurIPS 2023).

Forward process (training), for a ground-truth pose H_0 mapping source X onto
target Y, a step t ~ U{1..T} and eps ~ N(0, I_6):

    H_t = Exp(sqrt(1 - abar_t) sigma (.) eps) * Exp(sqrt(abar_t) Log H_0)

with the cosine schedule abar_t = f(t) / f(0), f(t) = cos((t/T + s)/(1 + s) pi/2)^2
(s = 0.008, T = 200) and sigma = (0.05 rad rotation, 0.03 translation) per block.
As abar_t falls from 1 to 0, H_t slides from the truth to a small random motion
near the identity, so the network sees every degree of misalignment between the
raw input and the answer.

Loss: the network f predicts the motion that finishes the job from H_t X, so
f(H_t X, Y) H_t should equal H_0; it is compared on the points, in L1:

    L = mean |f(H_t X, Y) H_t X - H_0 X|_1 + mean |f(X, Y) X - H_0 X|_1

the second term being the un-noised (one-shot) prediction, as published.

Reverse process (inference), T' = 5 steps of the same cosine schedule, from H = I:

    H0_hat = f(H X, Y) H
    H <- Exp(gamma0_t Log H0_hat + gamma1_t Log H)
    H <- Exp(sqrt(beta~_t) sigma' (.) eps) H            (noise=True only; sigma' = (0.1, 0.01))

with gamma0_t = beta_t sqrt(abar_{t-1}) / (1 - abar_t),
gamma1_t = (1 - abar_{t-1}) sqrt(alpha_t) / (1 - abar_t) and
beta~_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t: the DDPM posterior mean, taken
in the Lie algebra. The last H0_hat is the answer (4 network calls for T' = 5).
The SE(3) arithmetic is the C++ core's (``kernels.diffuse``, ``kernels.posterior_step``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from .. import kernels, poses


@dataclass(frozen=True)
class DiffusionConfig:
    steps_train: int = 200
    schedule_offset: float = 0.008
    sigma_train: tuple = (0.05, 0.03)  # (rotation, translation)
    steps_infer: int = 5
    sigma_infer: tuple = (0.1, 0.01)

    def to_dict(self):
        return asdict(self)


def apply(R: torch.Tensor, t: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """R (B,3,3), t (B,3), points (B,N,3) -> R p + t."""
    return points @ R.transpose(1, 2) + t.unsqueeze(1)


def _torch_rt(H, like: torch.Tensor):
    R, t = poses.rt_from_pose(H)
    return torch.as_tensor(R, dtype=like.dtype), torch.as_tensor(t, dtype=like.dtype)


def noised_inputs(H0: np.ndarray, rngs, cfg: DiffusionConfig):
    """Draw t and eps and return (H_t (B,7), t (B,)) for ground-truth poses H0 (B,7).

    One generator per sample (``rngs``), so a sample's noise does not depend on
    which batch or which process it lands in.
    """
    b = H0.shape[0]
    t = np.array([r.integers(1, cfg.steps_train + 1) for r in rngs])
    eps = np.stack([r.standard_normal(6) for r in rngs])
    Ht = kernels.diffuse(H0, t, eps, T=cfg.steps_train, sigma=cfg.sigma_train, s=cfg.schedule_offset)
    return Ht, t


class TrainingObjective(torch.nn.Module):
    """The published loss as a module, so DistributedDataParallel can wrap it.

    forward(batch, Ht) with batch: src, src_normals (B,N,3), tgt, tgt_normals
    (B,M,3) float tensors, H0 (B,7) float64 numpy (source -> target) and the
    neighbour indices src_idx, tgt_idx; Ht (B,7) the noised poses from
    ``noised_inputs``, or None to train the one-shot baseline (un-noised term only).
    Returns (loss, dict of detached terms for logging).

    ``correspondence_weight`` > 0 adds a dense term that the paper does not
    have (see docs/registration.md): each source point whose true position has
    a target point within ``overlap_distance`` should be matched there, in L1,
    and the network's confidence should say which points those are (binary
    cross-entropy). It gives every point a direct signal instead of one pose
    error per problem, which is what lets the matching learn in the few
    thousand CPU steps we can afford.
    """

    def __init__(self, net, correspondence_weight: float = 0.0, overlap_distance: float = 0.05):
        super().__init__()
        self.net = net
        self.correspondence_weight = correspondence_weight
        self.overlap_distance = overlap_distance

    def _overlap(self, target, tgt):
        """1 for source points whose true position lies within overlap_distance of the target cloud."""
        _, d2 = kernels.knn_batch(target.detach().numpy().astype(np.float32), tgt.detach().numpy(), 1)
        return torch.from_numpy(d2[..., 0] <= self.overlap_distance ** 2).to(target.dtype)

    def _correspondence(self, extras, target, overlap):
        err = (extras["matched"] - target).abs().sum(-1)
        # Per problem, then the batch mean: so that ranks' means average to the global batch's.
        corr = ((overlap * err).sum(-1) / overlap.sum(-1).clamp_min(1.0)).mean()
        conf = torch.nn.functional.binary_cross_entropy(extras["weights"].clamp(1e-6, 1 - 1e-6), overlap)
        return corr + 0.1 * conf

    def forward(self, batch: dict, Ht: np.ndarray | None):
        net = self.net
        src, nsrc, tgt, ntgt = batch["src"], batch["src_normals"], batch["tgt"], batch["tgt_normals"]
        R0, t0 = _torch_rt(batch["H0"], src)
        target = apply(R0, t0, src)
        aux = self.correspondence_weight > 0
        overlap = self._overlap(target, tgt) if aux else None
        fy = net.embed(tgt, ntgt, batch["tgt_idx"])
        R, t, extras = net.match(net.embed(src, nsrc, batch["src_idx"]), fy, src, tgt)
        one_shot = (apply(R, t, src) - target).abs().mean()
        logs = {"one_shot": one_shot.detach()}
        loss = one_shot
        if aux:
            corr = self._correspondence(extras, target, overlap)
            logs["correspondence"] = corr.detach()
            loss = loss + self.correspondence_weight * corr
        if Ht is None:
            return loss, logs
        Rt, tt = _torch_rt(Ht, src)
        src_t = apply(Rt, tt, src)
        # A rigid motion keeps neighbourhoods: the source's indices still hold.
        R, t, extras = net.match(net.embed(src_t, nsrc @ Rt.transpose(1, 2), batch["src_idx"]), fy, src_t, tgt)
        noised = (apply(R, t, src_t) - target).abs().mean()
        logs["noised"] = noised.detach()
        loss = loss + noised
        if aux:
            loss = loss + self.correspondence_weight * self._correspondence(extras, target, overlap)
        return loss, logs


@torch.no_grad()
def reverse_diffusion(net, src, nsrc, tgt, ntgt, cfg: DiffusionConfig, diffusion: bool = True, noise: bool = False,
             seed: int = 0, init: np.ndarray | None = None):
    """Reverse diffusion from H = init (default I); returns H0_hat (B, 7) mapping src onto tgt.

    ``diffusion=False`` is the one-shot baseline: a single network call. ``noise=True`` injects the
    posterior noise between steps; off by default, which did better on validation problems
    (docs/registration.md).
    src, nsrc (B,N,3); tgt, ntgt (B,M,3) or (1,M,3) (shared by all B) float tensors
    in normalised units.
    """
    from .neighbourhoods import knn_indices

    b = src.shape[0]
    H = poses.identity(b) if init is None else np.array(init, dtype=np.float64).reshape(b, 7)
    src_idx = knn_indices(src, net.cfg.neighbours)
    fy = net.embed(tgt, ntgt, knn_indices(tgt, net.cfg.neighbours))
    if tgt.shape[0] == 1 and b > 1:  # one target for many starts: describe it once
        tgt, fy = tgt.expand(b, -1, -1), fy.expand(b, -1, -1)
    rng = np.random.default_rng(seed)
    steps = range(cfg.steps_infer, 1, -1) if diffusion else [1]
    H0_hat = H
    for step in steps:
        R, t = _torch_rt(H, src)
        src_h = apply(R, t, src)
        dR, dt, _ = net.match(net.embed(src_h, nsrc @ R.transpose(1, 2), src_idx), fy, src_h, tgt)
        H0_hat = poses.compose(poses.pose_from_rt(dR.double().numpy(), dt.double().numpy()), H)
        if step > 2:  # the last posterior step would not be used
            eps = rng.standard_normal((b, 6)) if noise else None
            H = kernels.posterior_step(H0_hat, H, np.full(b, step), eps, T=cfg.steps_infer,
                                       sigma=cfg.sigma_infer, s=cfg.schedule_offset)
    return H0_hat
