"""Views, perturbations, random motions and registration problems."""

import math

import numpy as np
import pytest
from scipy.stats import kstest

from manif_py.registration.synthetic import settings as St
from manif_py.pointcloud import resample
from manif_py.registration.synthetic import views as V
from manif_py.registration.synthetic.shapes import TEST_FAMILIES, TEST_SEEDS, TRAIN_FAMILIES


def unit_sphere(n, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, 3))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# ------------------------------------------------------------------- hidden points


@pytest.mark.parametrize("distance, radius_factor", [(1.5, 10.0), (3.0, 100.0), (10.0, 100.0)])
def test_hpr_on_sphere_keeps_the_visible_cap(distance, radius_factor):
    """From distance d the visible cap of the unit sphere is z > 1/d: HPR keeps (almost)
    all of it and nothing behind the horizon.  (Close to a sparse cloud a large flipping
    radius lets far points poke through the hull: hence 10 at d = 1.5.)"""
    x = unit_sphere(4000)
    rot = V.random_rotation(3)
    view_dir = rot[:, 2]
    idx = V.hidden_point_removal(x, distance * view_dir, radius_factor)
    h = x @ view_dir
    kept = np.zeros(len(x), bool)
    kept[idx] = True
    assert idx.dtype == np.int64 and (np.diff(idx) > 0).all()
    assert h[kept].min() > 0.0, "nothing from the far side"
    assert (h[kept] < 1.0 / distance - 0.05).mean() < 0.01, "(almost) nothing behind the horizon"
    assert kept[h > 1.0 / distance + 0.05].mean() > 0.98
    cap = (1.0 - 1.0 / distance) / 2.0
    assert kept.mean() == pytest.approx(cap, abs=0.03)


def test_hpr_larger_radius_keeps_more():
    x = unit_sphere(2000)
    counts = [len(V.hidden_point_removal(x, [0, 0, 2.0], rf)) for rf in (3.0, 10.0, 100.0, 1000.0)]
    assert counts == sorted(counts) and counts[0] < counts[-1]


def _truly_visible(solid, p, vp, steps=160):
    """Ray-marched visibility: no sample of the segment p -> vp is inside the solid."""
    t = np.linspace(0.0, 1.0, steps + 1)[1:] ** 2  # dense near the surface
    seg = p[:, None, :] + t[None, :, None] * (vp - p)[:, None, :]
    start = 2e-3 / np.linalg.norm(vp - p, axis=1)
    hits = solid.contains(seg.reshape(-1, 3)).reshape(len(p), -1) & (t[None, :] > start[:, None])
    return ~hits.any(axis=1)


@pytest.mark.parametrize("family, seed", [("mechanical", 1), ("mechanical", 4), ("composite", 3), ("revolved", 2)])
def test_hpr_against_ray_casting(family, seed):
    """On concave solids HPR's kept points are mostly truly visible, and it keeps most of
    the visible ones (ray casting against the exact CSG solid as ground truth)."""
    from manif_py.registration.synthetic.shapes import make_solid

    solid, rng = make_solid(seed, family)
    p, _ = solid.sample(1500, rng)
    vp = p.mean(0) + 2.0 * np.linalg.norm(p.max(0) - p.min(0)) * np.array([0.36, 0.48, 0.8])
    kept = np.zeros(len(p), bool)
    kept[V.hidden_point_removal(p, vp)] = True
    visible = _truly_visible(solid, p, vp)
    assert visible[kept].mean() > 0.88, "precision"
    assert kept[visible].mean() > 0.8, "recall"
    kept_far = np.zeros(len(p), bool)
    kept_far[V.hidden_point_removal(p, vp, 1e4)] = True
    assert visible[kept_far].mean() < visible[kept].mean(), "a huge radius lets hidden points through"


def test_hpr_bad_input():
    x = unit_sphere(50)
    with pytest.raises(ValueError, match="'viewpoint'"):
        V.hidden_point_removal(x, [0, 0])
    with pytest.raises(ValueError, match="'viewpoint'"):
        V.hidden_point_removal(x, x[3])
    with pytest.raises(ValueError, match="'points'"):
        V.hidden_point_removal(x[:, :2], [0, 0, 3])
    with pytest.raises(ValueError, match="'points'"):
        V.hidden_point_removal(np.full((10, 3), np.nan), [0, 0, 3])
    with pytest.raises(ValueError, match="'points'"):
        V.hidden_point_removal(np.zeros((0, 3)), [0, 0, 3])
    with pytest.raises(ValueError, match="'radius_factor'"):
        V.hidden_point_removal(x, [0, 0, 3], radius_factor=-1)
    planar = np.column_stack([np.random.default_rng(0).random((30, 2)), np.zeros(30)])
    idx = V.hidden_point_removal(planar, [0.5, 0.5, 2.0])  # the viewpoint lifts it off the plane
    assert len(idx) > 0
    line = np.column_stack([np.linspace(0, 1, 20), np.zeros(20), np.zeros(20)])
    with pytest.raises(ValueError, match="'points'"):
        V.hidden_point_removal(line, [2.0, 0.0, 0.0])


# ----------------------------------------------------------------- crops and noise


def test_crop_keeps_fraction_on_one_side():
    x = unit_sphere(1000, 1)
    for seed in range(5):
        idx = V.crop_half_space(x, seed, keep=0.7)
        assert len(idx) == 700 and len(np.unique(idx)) == 700
        d = V.random_direction(seed)  # the same stream draws the same direction
        h = (x - x.mean(0)) @ d
        assert h[idx].min() >= np.delete(h, idx).max()
    np.testing.assert_array_equal(V.crop_half_space(x, 4), V.crop_half_space(x, 4))
    with pytest.raises(ValueError, match="'keep'"):
        V.crop_half_space(x, 0, keep=1.5)
    with pytest.raises(ValueError, match="'keep'"):
        V.crop_half_space(x, 0, keep=0.0)


def test_noise_is_clipped_gaussian():
    x = np.zeros((20000, 3))
    y = V.add_noise(x, 0, sigma=0.01, clip=0.05)
    assert np.abs(y).max() <= 0.05
    assert y.std() == pytest.approx(0.01, rel=0.03)
    z = V.add_noise(x, 0, sigma=0.05, clip=0.02)
    assert np.abs(z).max() == pytest.approx(0.02) and (np.abs(z) == 0.02).mean() > 0.5
    assert V.add_noise(x, 1, sigma=0.0).max() == 0.0
    with pytest.raises(ValueError, match="'sigma'"):
        V.add_noise(x, 0, sigma=-1)
    with pytest.raises(ValueError, match="'points'"):
        V.add_noise(np.zeros((4, 4)), 0)


def test_outliers_and_resample():
    x = unit_sphere(500)
    y = V.add_outliers(x, 0, fraction=0.2, box_scale=1.5)
    assert y.shape == (600, 3)
    np.testing.assert_array_equal(y[:500], x)
    assert np.abs(y[500:]).max() <= 1.5 + 1e-12 and np.abs(y[500:]).max() > 1.0
    idx = resample(x, 300, 0)
    assert len(np.unique(idx)) == 300
    idx = resample(x, 800, 0)
    assert len(idx) == 800 and set(idx.tolist()) == set(range(500)), "every point once before repeats"
    with pytest.raises(ValueError, match="'n'"):
        resample(x, 0, 0)
    with pytest.raises(ValueError, match="'fraction'"):
        V.add_outliers(x, 0, fraction=-0.1)


# ------------------------------------------------------------------------ rotations


def _angle(R):
    return math.degrees(math.acos(np.clip((np.trace(R) - 1.0) / 2.0, -1.0, 1.0)))


def test_haar_rotation_statistics():
    rng = np.random.default_rng(0)
    Rs = np.array([V.random_rotation(rng) for _ in range(3000)])
    np.testing.assert_allclose(np.einsum("nij,nkj->nik", Rs, Rs), np.broadcast_to(np.eye(3), Rs.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(Rs), 1.0, atol=1e-12)
    # Haar: E[R] = 0, the angle has density (1 - cos a) / pi on [0, pi]
    assert np.abs(Rs.mean(0)).max() < 0.05
    ang = np.radians([_angle(R) for R in Rs])
    cdf = lambda a: (a - np.sin(a)) / np.pi  # noqa: E731
    assert kstest(ang, cdf).pvalue > 1e-3
    # the rotated z axis is uniform on the sphere: its z coordinate is uniform on [-1, 1]
    assert kstest(Rs[:, 2, 2], "uniform", args=(-1, 2)).pvalue > 1e-3


def test_bounded_rotations():
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(1)
    ang = np.array([_angle(V.random_rotation(rng, 45.0, "axis_angle")) for _ in range(400)])
    assert ang.max() <= 45.0 + 1e-9
    for mode, lo in (("euler", 0.0), ("euler_symmetric", -45.0)):
        Rs = np.array([V.random_rotation(rng, 45.0, mode) for _ in range(400)])
        eul = Rotation.from_matrix(Rs).as_euler("XYZ", degrees=True)  # intrinsic XYZ = Rx Ry Rz
        assert eul.min() >= lo - 1e-9 and eul.max() <= 45.0 + 1e-9
        assert eul.min() < lo + 3.0 and eul.max() > 42.0
    # RPM-Net Euler convention: R = Rx(a) Ry(b) Rz(c) with a, b, c in [0, 45] degrees
    a, b, c = np.radians([10.0, 20.0, 30.0])
    R = V.euler_rotation([a, b, c])
    np.testing.assert_allclose(R, Rotation.from_euler("XYZ", [a, b, c]).as_matrix(), atol=1e-12)
    rng = np.random.default_rng(10)
    ang = np.array([_angle(V.random_rotation(rng, 30.0, "axis_angle")) for _ in range(4000)])
    assert kstest(ang, "uniform", args=(0, 30)).pvalue > 1e-3
    with pytest.raises(ValueError, match="'mode'"):
        V.random_rotation(rng, 45.0, "quaternion")
    with pytest.raises(ValueError, match="'max_angle_deg'"):
        V.random_rotation(rng, -5.0)


def test_random_transform():
    T = V.random_transform(0, 45.0, 0.5)
    assert T.shape == (4, 4) and np.allclose(T[3], [0, 0, 0, 1])
    assert np.abs(T[:3, 3]).max() <= 0.5
    np.testing.assert_array_equal(T, V.random_transform(0, 45.0, 0.5))
    ts = np.array([V.random_transform(s, None, 0.5)[:3, 3] for s in range(300)])
    assert ts.min() >= -0.5 and ts.max() <= 0.5 and ts.min() < -0.45 and ts.max() > 0.45


# ------------------------------------------------------------------------- settings


def apply(T, x):
    return x @ T[:3, :3].T + T[:3, 3]


@pytest.mark.parametrize("rotation", ["45", "so3"])
def test_clean_pair_is_exact(rotation):
    for seed in range(6):
        p = St.make_pair(seed, "clean", rotation)
        assert p["source"].shape == p["model"].shape == (1024, 3)
        np.testing.assert_allclose(apply(p["T_gt"], p["source"]), p["model"], atol=1e-12)
        np.testing.assert_allclose(p["source_normals"] @ p["T_gt"][:3, :3].T, p["model_normals"], atol=1e-12)
        assert p["diameter"] == 1.0 and p["family"] in TRAIN_FAMILIES


def test_pair_sizes_and_alignment():
    for setting, ns, nm in [("noisy", 1024, 1024), ("partial", 717, 717), ("single_view", 512, 1024)]:
        for seed in range(4):
            p = St.make_pair(seed, setting, "so3")
            assert p["source"].shape == (ns, 3) and p["model"].shape == (nm, 3)
            assert p["source_normals"].shape == (ns, 3)
            moved = apply(p["T_gt"], p["source"])
            # every moved source point lies near the model (noise <= 0.05 per axis; model sampled at 2048 points)
            d = np.linalg.norm(moved[:, None, :] - p["model"][None, :, :], axis=2).min(1)
            assert np.median(d) < 0.06, setting
            assert not np.allclose(moved, p["source"])


def test_partial_and_single_view_are_partial():
    p = St.make_pair(5, "partial", "45")
    model = p["model"]
    src = apply(p["T_gt"], p["source"])
    # different crop directions: each cloud misses a region the other has
    d_sm = np.linalg.norm(src[:, None] - model[None], axis=2).min(1)
    d_ms = np.linalg.norm(model[:, None] - src[None], axis=2).min(1)
    assert d_sm.max() > 0.1 or d_ms.max() > 0.1
    q = St.make_pair(5, "single_view", "45")
    vp = q["viewpoint"]
    src = apply(q["T_gt"], q["source"])
    facing = np.einsum("ij,ij->i", q["source_normals"] @ q["T_gt"][:3, :3].T, vp - src) > 0
    assert facing.mean() > 0.9


def test_noise_in_noisy_pairs():
    p = St.make_pair(3, "noisy", "45")
    q = St.make_pair(3, "noisy", "45", sigma=0.0)
    assert np.abs(p["model"] - q["model"]).max() <= 0.05 + 1e-12
    assert (p["model"] - q["model"]).std() == pytest.approx(0.01, rel=0.1)


def test_dataset_determinism_and_held_out_families():
    a = St.make_dataset(range(3), "partial", "so3")
    b = St.make_dataset(range(3), "partial", "so3")
    for x, y in zip(a, b):
        for k in ("source", "model", "T_gt"):
            np.testing.assert_array_equal(x[k], y[k])
    test = St.make_dataset(range(TEST_SEEDS.start, TEST_SEEDS.start + 8), "clean", "45")
    assert {p["family"] for p in test} <= set(TEST_FAMILIES)
    seen = St.make_pair(TEST_SEEDS.start, "clean", families=TRAIN_FAMILIES)
    assert seen["family"] in TRAIN_FAMILIES
    batch = St.stack_pairs(a)
    assert batch["source"].shape == (3, 717, 3) and batch["T_gt"].shape == (3, 4, 4)


def test_pair_bad_arguments():
    with pytest.raises(ValueError, match="'setting'"):
        St.make_pair(0, "blurry")
    with pytest.raises(ValueError, match="'rotation'"):
        St.make_pair(0, "clean", "sideways")
    with pytest.raises(ValueError, match="'rotation'"):
        St.make_pair(0, "clean", 270)
    with pytest.raises(ValueError, match="'families'"):
        St.make_pair(0, "clean", families=("teapot",))
    with pytest.raises(ValueError, match="'n_source'"):
        St.make_pair(0, "noisy", n_source=0)
    with pytest.raises(ValueError, match="'seed'"):
        St.make_pair(-1, "clean")
    with pytest.raises(ValueError, match="'pairs'"):
        St.stack_pairs([])
    with pytest.raises(ValueError, match="'pairs'"):
        St.stack_pairs([St.make_pair(0, "clean"), St.make_pair(0, "partial")])
