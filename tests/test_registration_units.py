"""Units both ways, and swapped arguments: the checks estimate_pose makes before any pose."""

import numpy as np
import pytest

from manif_py.registration import units
from manif_py.registration.synthetic import shapes, views


def rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def realistic(seed, kind):
    """A dense model (10,000 surface samples) and a 3,500-point scan of it at a random pose."""
    P = shapes.make_object(seed, n_points=14000).points
    rng = np.random.default_rng(seed)
    model = P[:10000]
    D = units.extent(model)
    if kind == "crop":
        scan = P[views.crop_half_space(P, rng, 0.7)]
        scan = scan[rng.permutation(len(scan))[:3500]] + rng.normal(scale=0.01 * D, size=(3500, 3))
    else:
        vis = P[views.hidden_point_removal(P, views.random_viewpoint(rng, 2.0 * D))]
        scan = vis[rng.permutation(len(vis))[:3500]]
        scan = scan + rng.normal(scale=0.005 * D, size=scan.shape)
        if kind == "clutter":
            scan = views.add_outliers(scan, rng, 0.15)
    return scan @ rotation(rng).T + rng.normal(size=3), model


def test_extent_does_not_depend_on_the_orientation():
    P = shapes.make_object(1_000_003, n_points=5000).points
    rng = np.random.default_rng(0)
    sizes = [units.extent(P @ rotation(rng).T) for _ in range(10)]
    assert np.ptp(sizes) < 0.02 * np.mean(sizes)
    # close to the largest distance between two points (which it never exceeds by much)
    true = max(np.linalg.norm(P[i] - P, axis=1).max() for i in range(0, len(P), 7))
    assert 0.9 * true < sizes[0] <= 1.01 * true


@pytest.mark.parametrize("kind", ["crop", "single", "clutter"])
def test_realistic_scans_pass_without_a_warning(kind):
    for seed in range(1_000_000, 1_000_010):
        scan, model = realistic(seed, kind)
        assert units.check_units(scan, model) == [], (kind, seed)


@pytest.mark.parametrize("factor", [1000.0, 100.0, 1 / 100.0, 1 / 1000.0])
def test_other_units_are_refused_both_ways(factor):
    scan, model = realistic(1_000_001, "crop")
    with pytest.raises(ValueError, match="same units"):
        units.check_units(scan * factor, model)


def test_a_scan_a_tenth_of_the_model_is_flagged():
    scan, model = realistic(1_000_002, "single")
    warnings = units.check_units(scan * 0.1, model)
    assert len(warnings) == 1 and "too little" in warnings[0]


@pytest.mark.parametrize("kind", ["crop", "single", "clutter"])
def test_swapped_arguments_are_flagged(kind):
    for seed in range(1_000_000, 1_000_005):
        scan, model = realistic(seed, kind)
        warnings = units.check_units(model, scan)
        assert any("swapped" in w for w in warnings), (kind, seed)


def test_a_scan_larger_than_its_model_is_flagged_whatever_the_counts():
    scan, model = realistic(1_000_004, "single")
    warnings = units.check_units(scan[:2000] * 1.6, model[:5000])
    assert any("larger than the object" in w for w in warnings)


def test_coincident_points_are_refused():
    with pytest.raises(ValueError, match="coincide"):
        units.check_units(np.ones((100, 3)), np.random.default_rng(0).normal(size=(100, 3)))


torch = pytest.importorskip("torch")


def test_estimate_pose_refuses_a_scan_far_smaller_and_flags_swapped_arguments():
    from manif_py.registration import estimate_pose

    scan, model = realistic(1_000_001, "crop")
    with pytest.raises(ValueError, match="same units"):
        estimate_pose(scan / 1000.0, model, starts=1, refine=False)
    with pytest.raises(ValueError, match="same units"):
        estimate_pose(scan * 1000.0, model, starts=1, refine=False)
    swapped = estimate_pose(model, scan, starts=2)
    assert not swapped.confident and any("swapped" in w for w in swapped.warnings)
    small = estimate_pose(scan * 0.1, model, starts=2)
    assert not small.confident and any("too little" in w for w in small.warnings)
