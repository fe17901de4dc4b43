"""Point-pair-feature voting in C++ (_registration.ppf_*) against a slow pure-Python reference.

The reference below is written from Drost et al. 2010 / Vidal et al. 2018 with plain
floats and loops (no numpy in the arithmetic), so that the C++ table, votes, peaks,
poses and clusters can be checked entry by entry on small inputs.
"""

import math

import numpy as np
import pytest

import manif_py
from manif_py import _registration as C
from manif_py.registration import shapes
from manif_py.registration.global_hypotheses import ppf_hypotheses
from manif_py.registration.prepared import prepare_model

# A coarse quantisation so that small clouds still share bins (many votes per bin).
STEP, DIST_BINS, ANGLE_BINS, ALPHA_BINS, MARGIN = 0.25, 6, 8, 12, 0.25


# --- the pure-Python reference -------------------------------------------------------------------

def _sub(a, b):
    return [a[0] - b[0], a[1] - b[1], a[2] - b[2]]


def _dot(a, b):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _cross(a, b):
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]


def _norm(a):
    return math.sqrt(_dot(a, a))


def _angle(a, b):
    return math.atan2(_norm(_cross(a, b)), _dot(a, b) + 0.0)


def _matmul(A, B):
    return [[sum(A[i][k] * B[k][j] for k in range(3)) for j in range(3)] for i in range(3)]


def _apply(R, v):
    return [_dot(R[0], v), _dot(R[1], v), _dot(R[2], v)]


def _frame(p, n):
    """R, t with R n = +x and R p + t = 0 (Rodrigues about n x e_x)."""
    axis = _cross(n, [1.0, 0.0, 0.0])
    s, c = _norm(axis), n[0]
    ang = math.atan2(s, c)
    axis = [a / s for a in axis] if s > 1e-12 else [0.0, 0.0, 1.0]
    K = [[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]]
    KK = _matmul(K, K)
    R = [[(1.0 if i == j else 0.0) + math.sin(ang) * K[i][j] + (1 - math.cos(ang)) * KK[i][j] for j in range(3)]
         for i in range(3)]
    return R, [-x for x in _apply(R, p)]


def _alpha(frame, other):
    R, t = frame
    q = [a + b for a, b in zip(_apply(R, other), t)]
    return math.atan2(q[2], q[1])


def _bins(p1, n1, p2, n2):
    d = _sub(p2, p1)
    da = math.pi / ANGLE_BINS
    return [_norm(d) / STEP, _angle(n1, d) / da, _angle(n2, d) / da, _angle(n1, n2) / da], _norm(d)


def _key(b):
    if not 0 <= b[0] < DIST_BINS or any(not 0 <= x <= ANGLE_BINS for x in b[1:]):
        return None
    B = ANGLE_BINS + 1
    return ((b[0] * B + b[1]) * B + b[2]) * B + b[3]


def reference_table(points, normals):
    """{key: [(reference, alpha_m), ...]} over every ordered pair, in (i, j) order."""
    table = {}
    for i, (p, n) in enumerate(zip(points, normals)):
        fr = _frame(p, n)
        for j, (q, m) in enumerate(zip(points, normals)):
            if i != j:
                key = _key([math.floor(v) for v in _bins(p, n, q, m)[0]])
                if key is not None:
                    table.setdefault(key, []).append((i, _alpha(fr, q)))
    return table


def reference_votes(table, n_model, scene, scene_normals, r, max_distance):
    """Accumulator (n_model * ALPHA_BINS) of scene reference r, with Vidal's neighbour-bin spreading."""
    acc = [0] * (n_model * ALPHA_BINS)
    p, n = scene[r], scene_normals[r]
    fr = _frame(p, n)
    for j, (q, m) in enumerate(zip(scene, scene_normals)):
        if j == r:
            continue
        v, dist = _bins(p, n, q, m)
        if not dist <= max_distance:
            continue
        alpha_s = _alpha(fr, q)
        base = [math.floor(x) for x in v]
        frac = [x - b for x, b in zip(v, base)]
        side = [1 if f >= 0.5 else -1 for f in frac]
        near = [min(f, 1 - f) < MARGIN for f in frac]
        for mask in range(16):
            bits = [(mask >> k) & 1 for k in range(4)]
            if any(bit and not near[k] for k, bit in enumerate(bits)):
                continue
            key = _key([b + s * bit for b, s, bit in zip(base, side, bits)])
            for ref, alpha_m in table.get(key, []) if key is not None else []:
                a = alpha_m - alpha_s
                acc[ref * ALPHA_BINS + int(math.floor((a + math.pi) / (2 * math.pi) * ALPHA_BINS)) % ALPHA_BINS] += 1
    return acc


def reference_pose(mp, mn, sp, sn, model_ref, alpha_bin):
    """Scan -> model: T_m^-1 Rx(alpha) T_s at the alpha bin's centre."""
    Rm, tm = _frame(mp[model_ref], mn[model_ref])
    Rs, ts = _frame(sp, sn)
    a = (alpha_bin + 0.5) / ALPHA_BINS * 2 * math.pi - math.pi
    Rx = [[1.0, 0.0, 0.0], [0.0, math.cos(a), -math.sin(a)], [0.0, math.sin(a), math.cos(a)]]
    RmT = [list(r) for r in zip(*Rm)]
    T = np.eye(4)
    T[:3, :3] = _matmul(RmT, _matmul(Rx, Rs))
    T[:3, 3] = _apply(RmT, _sub(_apply(Rx, ts), tm))
    return T


def reference_cluster(poses, votes, max_rot, max_trans, top_k):
    centres, scores = [], []
    for i in sorted(range(len(votes)), key=lambda i: -votes[i]):  # sorted() is stable: ties by index
        for c, P in enumerate(centres):
            cos = (np.trace(P[:3, :3].T @ poses[i][:3, :3]) - 1) / 2
            if math.acos(min(1.0, max(-1.0, cos))) < max_rot and np.linalg.norm(P[:3, 3] - poses[i][:3, 3]) < max_trans:
                scores[c] += votes[i]
                break
        else:
            centres.append(poses[i])
            scores.append(votes[i])
    order = sorted(range(len(scores)), key=lambda c: -scores[c])[:top_k]
    return np.stack([centres[c] for c in order]), np.array([scores[c] for c in order])


# --- fixtures ------------------------------------------------------------------------------------

def _unit(v):
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def small():
    """A 40-point model on a unit-sized blob and a 25-point scene of it, rigidly moved, with noise."""
    rng = np.random.default_rng(3)
    mp = rng.uniform(-0.5, 0.5, (40, 3))
    mn = _unit(rng.standard_normal((40, 3)))
    q = _unit(rng.standard_normal((1, 4)))[0]
    x, y, z, w = q
    R = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                  [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                  [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    sel = rng.choice(40, 25, replace=False)
    sp = mp[sel] @ R.T + 0.3 + rng.normal(0, 0.01, (25, 3))
    sn = _unit(mn[sel] @ R.T + rng.normal(0, 0.02, (25, 3)))
    return mp, mn, sp, sn


def _table(mp, mn):
    return C.ppf_model_table(mp, mn, distance_step=STEP, distance_bins=DIST_BINS, angle_bins=ANGLE_BINS)


def _vote(t, mp, mn, sp, sn, refs, max_distance=1.8):
    return C.ppf_vote(t["offsets"], t["ref"], t["alpha"], mp, mn, sp, sn, refs, distance_step=STEP,
                      distance_bins=DIST_BINS, angle_bins=ANGLE_BINS, alpha_bins=ALPHA_BINS, spread_margin=MARGIN,
                      max_distance=max_distance)


# --- C++ against the reference -------------------------------------------------------------------

def test_model_table_holds_every_pair_under_its_key_in_order(small):
    mp, mn, _, _ = small
    t = _table(mp, mn)
    expected = reference_table(mp.tolist(), mn.tolist())
    assert t["offsets"].shape == (DIST_BINS * (ANGLE_BINS + 1) ** 3 + 1,)
    assert t["offsets"][-1] == len(t["ref"]) == len(t["alpha"]) == sum(len(v) for v in expected.values())
    for key in range(len(t["offsets"]) - 1):
        lo, hi = t["offsets"][key], t["offsets"][key + 1]
        want = expected.get(key, [])
        assert hi - lo == len(want), key
        if want:
            np.testing.assert_array_equal(t["ref"][lo:hi], [r for r, _ in want])
            np.testing.assert_allclose(t["alpha"][lo:hi], [a for _, a in want], rtol=0, atol=1e-12)


def test_votes_peaks_and_poses_match_the_reference(small):
    mp, mn, sp, sn = small
    t = _table(mp, mn)
    refs = np.array([0, 3, 7, 11, 19, 24], dtype=np.int64)
    out = _vote(t, mp, mn, sp, sn, refs)
    table = reference_table(mp.tolist(), mn.tolist())
    for i, r in enumerate(refs):
        acc = reference_votes(table, len(mp), sp.tolist(), sn.tolist(), int(r), 1.8)
        best = int(np.argmax(acc))  # the first maximum, as the C++
        assert (out["votes"][i], out["model_ref"][i], out["alpha_bin"][i]) == (acc[best], best // ALPHA_BINS,
                                                                              best % ALPHA_BINS), i
        np.testing.assert_allclose(out["poses"][i], reference_pose(mp.tolist(), mn.tolist(), sp[r].tolist(),
                                                                   sn[r].tolist(), best // ALPHA_BINS,
                                                                   best % ALPHA_BINS), atol=1e-12)
    assert out["votes"].max() > 1  # the fixture exercises real accumulation, not single hits


def test_max_distance_drops_far_scene_pairs(small):
    mp, mn, sp, sn = small
    t = _table(mp, mn)
    refs = np.arange(5, dtype=np.int64)
    out = _vote(t, mp, mn, sp, sn, refs, max_distance=0.4)
    table = reference_table(mp.tolist(), mn.tolist())
    for i, r in enumerate(refs):
        acc = reference_votes(table, len(mp), sp.tolist(), sn.tolist(), int(r), 0.4)
        assert out["votes"][i] == max(acc)


def test_clustering_matches_the_reference(small):
    mp, mn, sp, sn = small
    t = _table(mp, mn)
    out = _vote(t, mp, mn, sp, sn, np.arange(25, dtype=np.int64))
    votes = out["votes"].astype(np.float64)
    got_T, got_s = C.ppf_cluster(out["poses"], votes, max_rotation=0.6, max_translation=0.3, top_k=5)
    want_T, want_s = reference_cluster(list(out["poses"]), list(votes), 0.6, 0.3, 5)
    np.testing.assert_array_equal(got_s, want_s)
    np.testing.assert_array_equal(got_T, want_T)
    assert np.all(np.diff(got_s) <= 0)


# --- behaviour on a real shape -------------------------------------------------------------------

@pytest.fixture(scope="module")
def shape_problem():
    obj = shapes.make_object(5, "composite", n_points=6000)
    model = obj.points[:3000]
    rng = np.random.default_rng(11)
    q = _unit(rng.standard_normal((1, 4)))[0]
    x, y, z, w = q
    R = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                  [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                  [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    t = np.array([0.1, -0.2, 0.15])
    scan = (obj.points[3000:] - t) @ R  # model = R scan + t
    return prepare_model(model), scan, R, t


def test_ppf_hypotheses_recover_a_full_scan_at_an_arbitrary_rotation(shape_problem):
    prepared, scan, R, t = shape_problem
    hyps, votes = ppf_hypotheses(scan, prepared, top_k=8, seed=0)
    err = [math.degrees(math.acos(np.clip((np.trace(R.T @ H[:3, :3]) - 1) / 2, -1, 1))) for H in hyps]
    best = int(np.argmin(err))
    assert err[best] < 15.0 and np.linalg.norm(hyps[best][:3, 3] - t) < 0.1 * prepared.diameter
    assert best <= 2  # the right pose is among the strongest clusters, not a lucky tail entry


def test_results_do_not_depend_on_the_thread_count(shape_problem):
    prepared, scan, _, _ = shape_problem
    before = manif_py._threads._requested
    try:
        manif_py.set_num_threads(1)
        assert C.get_num_threads() == 1
        one = ppf_hypotheses(scan, prepared, seed=4)
        manif_py.set_num_threads(2)
        assert C.get_num_threads() == 2
        two = ppf_hypotheses(scan, prepared, seed=4)
    finally:
        manif_py.set_num_threads(before)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])


# --- bad input: clear errors, never a read out of bounds ---------------------------------------

def test_bad_tables_are_refused_naming_the_argument(small):
    mp, mn, sp, sn = small
    t = _table(mp, mn)
    refs = np.arange(3, dtype=np.int64)
    with pytest.raises(ValueError, match="'offsets'.*shape"):
        C.ppf_vote(t["offsets"][:-1], t["ref"], t["alpha"], mp, mn, sp, sn, refs, distance_step=STEP,
                   distance_bins=DIST_BINS, angle_bins=ANGLE_BINS, max_distance=1.8)
    bad = t["offsets"].copy()
    bad[5] = bad[-1] + 10
    with pytest.raises(ValueError, match="'offsets'"):
        _vote(dict(t, offsets=bad), mp, mn, sp, sn, refs)
    bad_ref = t["ref"].copy()
    bad_ref[0] = len(mp)
    with pytest.raises(ValueError, match="'ref'.*model point index"):
        _vote(dict(t, ref=bad_ref), mp, mn, sp, sn, refs)
    with pytest.raises(ValueError, match="'ref' and 'alpha'"):
        _vote(dict(t, alpha=t["alpha"][:-1]), mp, mn, sp, sn, refs)


def test_bad_clouds_and_options_are_refused(small):
    mp, mn, sp, sn = small
    t = _table(mp, mn)
    with pytest.raises(ValueError, match="'normals'.*unit"):
        C.ppf_model_table(mp, mn * 2, distance_step=STEP, distance_bins=DIST_BINS, angle_bins=ANGLE_BINS)
    with pytest.raises(ValueError, match="'normals'.*shape"):
        C.ppf_model_table(mp, mn[:-1], distance_step=STEP, distance_bins=DIST_BINS, angle_bins=ANGLE_BINS)
    with pytest.raises(ValueError, match="'points'.*NaN"):
        C.ppf_model_table(np.where(np.arange(40)[:, None] == 3, np.nan, mp), mn, distance_step=STEP,
                          distance_bins=DIST_BINS, angle_bins=ANGLE_BINS)
    with pytest.raises(ValueError, match="'distance_step'"):
        C.ppf_model_table(mp, mn, distance_step=0.0, distance_bins=DIST_BINS, angle_bins=ANGLE_BINS)
    with pytest.raises(ValueError, match="'references' entry"):
        _vote(t, mp, mn, sp, sn, np.array([0, 25], dtype=np.int64))
    with pytest.raises(ValueError, match="'references'"):
        _vote(t, mp, mn, sp, sn, np.zeros(0, dtype=np.int64))
    with pytest.raises(ValueError, match="'scene_normals'"):
        _vote(t, mp, mn, sp, sn[:, :2], np.arange(3, dtype=np.int64))
    with pytest.raises(TypeError, match="'scene_points'"):
        _vote(t, mp, mn, None, sn, np.arange(3, dtype=np.int64))
    with pytest.raises(ValueError, match="'model_normals'"):
        _vote(t, mp[:-1], mn, sp, sn, np.arange(3, dtype=np.int64))
    with pytest.raises(ValueError, match="'ref'.*model point index"):
        _vote(t, mp[:-1], mn[:-1], sp, sn, np.arange(3, dtype=np.int64))  # a table of 40 points, 39 given
    with pytest.raises(ValueError, match="'top_k'"):
        C.ppf_cluster(np.tile(np.eye(4), (2, 1, 1)), np.ones(2), max_rotation=0.3, max_translation=0.1, top_k=0)
    with pytest.raises(ValueError, match="'votes'"):
        C.ppf_cluster(np.tile(np.eye(4), (2, 1, 1)), np.ones(3), max_rotation=0.3, max_translation=0.1, top_k=1)
