"""Global pose hypotheses over all of SO(3), training-free: point-pair-feature voting.

Drost et al. 2010 (CVPR), with refinements of Vidal et al. 2018: scene reference
points sub-sampled, each scene feature also looked up in the neighbouring bin on
the side its value lies closer to (quantisation noise), and pose clustering of
the peaks. Written in numpy over arrays (the C++ port the issue asks for is not
done yet); the model's table comes from ``prepared.prepare_model``.

Poses are (K, 4, 4) float64 mapping the scan into the model's frame.
"""

from __future__ import annotations

import numpy as np

from .prepared import PPF_ANGLE_BINS, PPF_DISTANCE_STEP, PreparedModel, normals_of, voxel_downsample
from .preprocess import check_cloud

# Alpha (rotation about the reference normal) is voted in this many bins over 2 pi.
ALPHA_BINS = 30
# Peaks whose poses are within these bounds are one cluster (Drost's clustering).
CLUSTER_ROTATION = np.deg2rad(20.0)
CLUSTER_TRANSLATION = 0.1  # fraction of the diameter
# A scene feature this close (in bins) to a bin edge also votes in the bin across it.
SPREAD_MARGIN = 0.25
# Pair distances are at most the diameter: this many distance bins.
_DISTANCE_BINS = int(np.ceil(1 / PPF_DISTANCE_STEP)) + 1
TABLE_SIZE = _DISTANCE_BINS * (PPF_ANGLE_BINS + 1) ** 3


def _angle(a, b):
    return np.arctan2(np.linalg.norm(np.cross(a, b), axis=-1), np.einsum("...i,...i->...", a, b) + 0.0)


def _features(p1, n1, p2, n2):
    d = p2 - p1
    return np.linalg.norm(d, axis=-1), _angle(n1, d), _angle(n2, d), _angle(n1, n2)


def _to_x_axis(points, normals):
    """(N, 4, 4) rigid maps taking each point to the origin and its normal onto +x."""
    x = np.array([1.0, 0.0, 0.0])
    axis = np.cross(normals, x)
    s = np.linalg.norm(axis, axis=1)
    c = normals @ x
    ang = np.arctan2(s, c)
    axis = np.where(s[:, None] > 1e-12, axis / np.maximum(s, 1e-300)[:, None], np.array([0.0, 0.0, 1.0]))
    K = np.zeros((len(points), 3, 3))
    K[:, 0, 1], K[:, 0, 2], K[:, 1, 2] = -axis[:, 2], axis[:, 1], -axis[:, 0]
    K[:, 1, 0], K[:, 2, 0], K[:, 2, 1] = axis[:, 2], -axis[:, 1], axis[:, 0]
    R = np.eye(3) + np.sin(ang)[:, None, None] * K + (1 - np.cos(ang))[:, None, None] * (K @ K)
    T = np.tile(np.eye(4), (len(points), 1, 1))
    T[:, :3, :3] = R
    T[:, :3, 3] = -np.einsum("nij,nj->ni", R, points)
    return T


def _alpha(T_ref, p_other):
    """Angle about +x of the other point after the reference's canonical map."""
    q = np.einsum("nij,nj->ni", T_ref[:, :3, :3], p_other) + T_ref[:, :3, 3]
    return np.arctan2(q[:, 2], q[:, 1])


def _quantise(f, diameter):
    step = PPF_DISTANCE_STEP * diameter
    da = np.pi / PPF_ANGLE_BINS
    return f[0] / step, f[1] / da, f[2] / da, f[3] / da


def _key(qd, q1, q2, q3):
    B = PPF_ANGLE_BINS + 1
    return ((qd.astype(np.int64) * B + q1.astype(np.int64)) * B + q2.astype(np.int64)) * B + q3.astype(np.int64)


def model_pair_table(points, normals, diameter):
    """Sorted quantised keys, reference index and alpha_m of every ordered model pair."""
    n = len(points)
    i, j = np.nonzero(~np.eye(n, dtype=bool))
    q = _quantise(_features(points[i], normals[i], points[j], normals[j]), diameter)
    keys = _key(*(np.floor(v) for v in q))
    T = _to_x_axis(points, normals)
    alpha = _alpha(T[i], points[j])
    order = np.argsort(keys, kind="stable")
    return keys[order], i[order].astype(np.int32), alpha[order]


def _scene_keys(q):
    """(P, 16) keys of each scene feature: its bin and, per dimension whose value lies within
    SPREAD_MARGIN of a bin edge, also the neighbouring bin across that edge (Vidal et al. 2018);
    -1 marks an unused slot."""
    base = [np.floor(v) for v in q]
    frac = [v - b for v, b in zip(q, base)]
    side = [np.where(f >= 0.5, 1.0, -1.0) for f in frac]
    near = [np.minimum(f, 1 - f) < SPREAD_MARGIN for f in frac]
    out = []
    for mask in range(16):
        bits = [(mask >> k) & 1 for k in range(4)]
        parts = [b + s * bit for b, s, bit in zip(base, side, bits)]
        valid = np.ones(len(base[0]), dtype=bool)
        for k, bit in enumerate(bits):
            if bit:
                valid &= near[k]
        valid &= np.all([p >= 0 for p in parts], axis=0) & (parts[0] < _DISTANCE_BINS)
        valid &= np.all([p <= PPF_ANGLE_BINS for p in parts[1:]], axis=0)
        out.append(np.where(valid, _key(*[np.maximum(p, 0) for p in parts]), -1))
    return np.stack(out, axis=1)


def _rot_angle(Ra, Rb):
    c = (np.einsum("...ij,...ij->...", Ra, Rb) - 1) / 2
    return np.arccos(np.clip(c, -1, 1))


def ppf_hypotheses(scan_points, prepared: PreparedModel, *, top_k: int = 8, reference_fraction: float = 0.2,
                   max_references: int = 80, seed: int = 0):
    """Top-K poses (K, 4, 4) of the scan in the model's frame and their votes (K,), best first."""
    if not isinstance(prepared, PreparedModel):
        raise TypeError(f"argument 'prepared' must be a PreparedModel (from prepare_model), got {type(prepared)}")
    scan = check_cloud(scan_points, "scan_points")
    if not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"argument 'top_k' must be a positive integer, got {top_k!r}")
    if not isinstance(max_references, (int, np.integer)) or max_references < 1:
        raise ValueError(f"argument 'max_references' must be a positive integer, got {max_references!r}")
    if not 0 < reference_fraction <= 1:
        raise ValueError(f"argument 'reference_fraction' must be in (0, 1], got {reference_fraction}")
    D = prepared.diameter
    mp, mn = prepared.global_points, prepared.global_normals
    sp = voxel_downsample(scan, PPF_DISTANCE_STEP * D)
    if len(sp) < 3:
        raise ValueError("argument 'scan_points': fewer than 3 voxels at the global stage's scale")
    sn = normals_of(sp)
    rng = np.random.default_rng(seed)
    # Vidal's sub-sampled scene references, capped: the voting cost is linear in them.
    n_ref = max(1, min(int(max_references), int(round(reference_fraction * len(sp)))))
    refs = np.sort(rng.choice(len(sp), n_ref, replace=False))
    # Every (reference, other) scene pair within the model's diameter.
    r_idx = np.repeat(refs, len(sp))
    o_idx = np.tile(np.arange(len(sp)), n_ref)
    d = np.linalg.norm(sp[o_idx] - sp[r_idx], axis=1)
    keep = (o_idx != r_idx) & (d <= D)
    r_idx, o_idx = r_idx[keep], o_idx[keep]
    q = _quantise(_features(sp[r_idx], sn[r_idx], sp[o_idx], sn[o_idx]), D)
    T_s = _to_x_axis(sp, sn)
    alpha_s = _alpha(T_s[r_idx], sp[o_idx])
    keys = _scene_keys(q)  # (P, 16)
    # Dense offsets over the whole key space: a lookup is two reads, not a search.
    offsets = prepared.ppf_offsets
    safe = np.where(keys >= 0, keys, 0)
    lo = offsets[safe]
    counts = np.where(keys >= 0, offsets[safe + 1] - lo, 0).reshape(-1)
    pair_of = np.repeat(np.arange(len(r_idx)).repeat(keys.shape[1]), counts)
    starts = np.repeat(lo.reshape(-1), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    m = starts + offsets
    alpha = prepared.ppf_alpha[m] - alpha_s[pair_of]
    abin = (np.floor((alpha + np.pi) / (2 * np.pi) * ALPHA_BINS).astype(np.int64)) % ALPHA_BINS
    ref_slot = np.searchsorted(refs, r_idx[pair_of])
    M = len(mp)
    acc = np.bincount((ref_slot * M + prepared.ppf_ref[m]) * ALPHA_BINS + abin,
                      minlength=n_ref * M * ALPHA_BINS).reshape(n_ref, M * ALPHA_BINS)
    best = np.argmax(acc, axis=1)
    votes = acc[np.arange(n_ref), best].astype(np.float64)
    m_ref, a_bin = best // ALPHA_BINS, best % ALPHA_BINS
    a = (a_bin + 0.5) / ALPHA_BINS * 2 * np.pi - np.pi
    Rx = np.tile(np.eye(4), (n_ref, 1, 1))
    Rx[:, 1, 1], Rx[:, 1, 2], Rx[:, 2, 1], Rx[:, 2, 2] = np.cos(a), -np.sin(a), np.sin(a), np.cos(a)
    T_m = _to_x_axis(mp, mn)[m_ref]
    # scan -> model: T_m^-1 Rx(-alpha) T_s, alpha = alpha_m - alpha_s (the inverse of model -> scan).
    Rx_inv = np.transpose(Rx, (0, 2, 1)).copy()
    Rx_inv[:, :3, 3] = 0
    poses = np.linalg.inv(T_m) @ Rx_inv @ T_s[refs]
    return _cluster(poses, votes, D, top_k)


def _cluster(poses, votes, diameter, top_k):
    """Greedy clustering of peak poses, strongest first; a cluster scores its members' votes."""
    order = np.argsort(-votes, kind="stable")
    centres, scores = [], []
    for i in order:
        for c in range(len(centres)):
            P = centres[c]
            if (_rot_angle(P[:3, :3], poses[i][:3, :3]) < CLUSTER_ROTATION
                    and np.linalg.norm(P[:3, 3] - poses[i][:3, 3]) < CLUSTER_TRANSLATION * diameter):
                scores[c] += votes[i]
                break
        else:
            centres.append(poses[i])
            scores.append(votes[i])
    scores = np.array(scores)
    keep = np.argsort(-scores, kind="stable")[:top_k]
    return np.stack([centres[k] for k in keep]), scores[keep]
