"""Registration kernels side by side with torch (and scipy's cKDTree), printing ratios.

    python benchmarks/bench_registration_kernels.py [--threads N] [--rounds R]

Times, per call (median of R rounds after a warm-up):
- weighted Procrustes, B = 32, P = 1024: forward, and forward + backward, against
  torch.linalg.svd (autograd through the SVD for the backward);
- PPF features, B = 8, N = 1024, k = 64, float32: against torch.cdist + topk + gather;
- kNN, 5,000 queries into 10,000 points (k = 1 and 16): against cKDTree (build + query)
  and torch.cdist + topk;
- ICP, 5,000 scan points against a 10,000-point model, 30 iterations (no early stop)
  and to convergence, point-to-plane and point-to-point.
Ratios are (peer time) / (manif_py time): above 1 means manif_py is faster.
"""

from __future__ import annotations

import argparse

import numpy as np

from manif_py.registration import kernels as K

from _common import time_batch

try:
    import torch
except ImportError:  # torch is optional: the peers are skipped
    torch = None
try:
    from scipy.spatial import cKDTree
except ImportError:
    cKDTree = None


def median_ms(fn, rounds):
    """Median ms of one call of fn (after a warm-up), by the shared benchmark timer."""
    return time_batch(fn, 1, rounds) / 1e6


def row(name, ours, peers):
    cells = [f"{name:<44s} manif_py {ours:9.3f} ms"]
    for peer, ms in peers:
        cells.append(f"{peer} {ms:9.3f} ms (x{ms / ours:5.2f})")
    print(" | ".join(cells), flush=True)


def torch_procrustes(src, tgt, w):
    W = w.sum(-1, keepdim=True)
    s_bar = (w.unsqueeze(-1) * src).sum(1) / W
    y_bar = (w.unsqueeze(-1) * tgt).sum(1) / W
    M = torch.einsum("bp,bpi,bpj->bij", w, tgt - y_bar.unsqueeze(1), src - s_bar.unsqueeze(1))
    U, _, Vh = torch.linalg.svd(M)
    d = torch.sign(torch.linalg.det(U @ Vh))
    D = torch.diag_embed(torch.stack([torch.ones_like(d), torch.ones_like(d), d], -1))
    R = U @ D @ Vh
    return R, y_bar - (R @ s_bar.unsqueeze(-1)).squeeze(-1)


def torch_ppf(points, normals, k, radius):
    d2 = torch.cdist(points, points) ** 2
    d2k, idx = torch.topk(d2, k, dim=-1, largest=False)
    idx = torch.where(d2k < radius * radius, idx, idx[..., :1])
    B, N, _ = points.shape
    flat = idx.reshape(B, N * k, 1).expand(-1, -1, 3)
    xj = torch.gather(points, 1, flat).reshape(B, N, k, 3)
    nj = torch.gather(normals, 1, flat).reshape(B, N, k, 3)
    xi, ni = points.unsqueeze(2), normals.unsqueeze(2).expand_as(nj)
    d = xj - xi

    def angle(a, b):
        return torch.atan2(torch.linalg.norm(torch.cross(a, b, dim=-1), dim=-1), (a * b).sum(-1))

    return idx, torch.cat([xi.expand_as(d), d, torch.linalg.norm(d, dim=-1, keepdim=True),
                           torch.stack([angle(ni, d), angle(nj, d), angle(ni, nj)], -1)], -1)


def sample_object(rng, n):
    u = rng.normal(size=(n, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    axes = np.array([1.0, 0.6, 0.35])
    p = u * axes * (1 + 0.1 * np.sin(5 * u[:, :1]))  # a bumpy ellipsoid: no symmetry to slide along
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    ap.add_argument("--ours-threads", type=int, default=0, help="manif_py kernel threads (default 0 = all cores)")
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    R = args.rounds
    if torch is not None:
        torch.set_num_threads(args.threads)
    K.set_num_threads(args.ours_threads)
    print(f"torch threads: {args.threads}; manif_py kernel threads: {K.get_num_threads()}")

    # Weighted Procrustes ------------------------------------------------------------------
    B, P = 32, 1024
    src = rng.normal(size=(B, P, 3))
    tgt = src @ np.linalg.qr(rng.normal(size=(3, 3)))[0].T + 0.01 * rng.normal(size=(B, P, 3))
    w = rng.uniform(size=(B, P))
    for dt in (np.float32, np.float64):
        s, y, ww = src.astype(dt), tgt.astype(dt), w.astype(dt)
        ours = median_ms(lambda: K.weighted_procrustes(s, y, ww), R)
        Rr, tt, _ = K.weighted_procrustes(s, y, ww)
        gR, gt = np.ones_like(Rr), np.ones_like(tt)
        ours_bw = median_ms(lambda: (K.weighted_procrustes(s, y, ww),
                                     K.weighted_procrustes_backward(s, y, ww, Rr, tt, gR, gt)), R)
        peers, peers_bw = [], []
        if torch is not None:
            ts, ty, tw = (torch.from_numpy(x) for x in (s, y, ww))
            peers.append(("torch svd", median_ms(lambda: torch_procrustes(ts, ty, tw), R)))
            tsg, tyg, twg = (x.clone().requires_grad_(True) for x in (ts, ty, tw))

            def fb():
                Rt, tt_ = torch_procrustes(tsg, tyg, twg)
                (Rt.sum() + tt_.sum()).backward()

            peers_bw.append(("torch svd autograd", median_ms(fb, R)))
        row(f"procrustes B={B} P={P} {dt.__name__} fwd", ours, peers)
        row(f"procrustes B={B} P={P} {dt.__name__} fwd+bwd", ours_bw, peers_bw)

    # PPF features ---------------------------------------------------------------------------
    B, N, k = 8, 1024, 64
    pts = rng.uniform(-0.5, 0.5, size=(B, N, 3)).astype(np.float32)
    nrm = rng.normal(size=(B, N, 3)).astype(np.float32)
    nrm /= np.linalg.norm(nrm, axis=-1, keepdims=True)
    ours = median_ms(lambda: K.ppf_features(pts, nrm, k, 0.3), R)
    peers = []
    if torch is not None:
        tp, tn = torch.from_numpy(pts), torch.from_numpy(nrm)
        peers.append(("torch cdist+topk", median_ms(lambda: torch_ppf(tp, tn, k, 0.3), R)))
    row(f"ppf_features B={B} N={N} k={k} float32", ours, peers)

    # kNN ------------------------------------------------------------------------------------
    ref = rng.normal(size=(10000, 3))
    qry = rng.normal(size=(5000, 3))
    for kk in (1, 16):
        ours = median_ms(lambda: K.knn(qry, ref, kk), R)
        peers = []
        if cKDTree is not None:
            peers.append(("cKDTree build+query", median_ms(lambda: cKDTree(ref).query(qry, kk), R)))
        if torch is not None:
            tq, tr = torch.from_numpy(qry), torch.from_numpy(ref)
            peers.append(("torch cdist+topk", median_ms(lambda: torch.topk(torch.cdist(tq, tr), kk, largest=False), R)))
        row(f"knn 5000 queries into 10000 points k={kk}", ours, peers)

    # ICP ------------------------------------------------------------------------------------
    model = sample_object(rng, 10000)
    normals = K.estimate_normals(model, 16)
    angle = np.deg2rad(15.0)
    Rz = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    scan = (sample_object(rng, 5000) - 0.05) @ Rz  # a fresh sampling, rotated 15 deg and shifted
    for method in ("point_to_plane", "point_to_point"):
        full = median_ms(lambda: K.icp(scan, model, normals, method=method, max_iterations=30, tolerance=0.0), R)
        conv = K.icp(scan, model, normals, method=method)
        early = median_ms(lambda: K.icp(scan, model, normals, method=method), R)
        row(f"icp {method} 5000 vs 10000, 30 iterations", full, [])
        row(f"icp {method} to convergence ({conv['iterations']} it)", early, [])


if __name__ == "__main__":
    main()
