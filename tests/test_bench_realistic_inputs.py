"""The realistic registration benchmark's inputs: deterministic, correct ground truth, sizes as stated."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import realistic_inputs as ri  # noqa: E402
import realistic_methods as rm  # noqa: E402


def irregular_tetrahedron() -> ri.RealisticObject:
    """A closed mesh with no symmetry, with a model cloud as load_object makes one."""
    v = np.array([[0.0, 0.0, 0.0], [2.0, 0.1, 0.0], [0.3, 1.2, 0.2], [0.5, 0.4, 0.9]])
    f = np.array([[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]])
    model = ri.sample_surface(v, f, ri.MODEL_POINTS, np.random.default_rng(0))
    centre = 0.5 * (model.max(0) + model.min(0))
    return ri.RealisticObject("tetra", v - centre, f, model - centre, ri.bbox_diagonal(model))


def nearest(points, cloud):
    from scipy.spatial import cKDTree

    return cKDTree(cloud).query(points)[0]


@pytest.mark.parametrize("setting", ri.SETTINGS)
def test_problem_is_deterministic_and_its_answer_puts_the_scan_on_the_model(setting):
    obj = irregular_tetrahedron()
    a, b = ri.make_problem(obj, setting, 3), ri.make_problem(obj, setting, 3)
    np.testing.assert_array_equal(a.scan, b.scan)
    np.testing.assert_array_equal(a.T_true, b.T_true)
    assert ri.SCAN_POINTS[0] <= len(a.scan) <= ri.SCAN_POINTS[1]
    moved = a.scan @ a.T_true[:3, :3].T + a.T_true[:3, 3]
    d = nearest(moved, obj.model) / obj.diameter
    # Noise is at most 1% of the diameter; clutter puts 15% of the points anywhere in the box.
    assert np.quantile(d, 0.8) < 0.03
    if setting == "clutter":
        assert np.mean(d > 0.05) > 0.05
    assert not np.allclose(ri.make_problem(obj, setting, 4).scan[:10], a.scan[:10])


def test_pose_errors_measure_rotation_in_degrees_and_centre_offset_over_diameter():
    T = np.eye(4)
    R = ri.uniform_rotation(np.random.default_rng(1))
    T[:3, :3], T[:3, 3] = R, [1.0, 2.0, 3.0]
    rot, trans = ri.pose_errors(T, T, 2.0)
    assert rot < 1e-4 and trans == 0.0
    off = T.copy()
    c = np.cos(np.radians(7.0)), np.sin(np.radians(7.0))
    off[:3, :3] = np.array([[c[0], -c[1], 0], [c[1], c[0], 0], [0, 0, 1]]) @ R
    off[:3, 3] = off[:3, :3] @ (R.T @ T[:3, 3])  # the same model centre in the scan: no translation error
    rot, trans = ri.pose_errors(off, T, 2.0)
    assert rot == pytest.approx(7.0, abs=1e-9) and trans == pytest.approx(0.0, abs=1e-12)


def test_uniform_rotation_is_a_rotation():
    R = ri.uniform_rotation(np.random.default_rng(5))
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)


def test_bad_setting_and_object_name_errors():
    with pytest.raises(ValueError, match="setting"):
        ri.make_scan(irregular_tetrahedron(), "sideways", np.random.default_rng(0))
    with pytest.raises(ValueError, match="name"):
        ri.load_object("teapot")


@pytest.mark.skipif(not ri.ASSIMP_MODELS.exists(), reason="Debian's assimp-testmodels is not installed")
def test_real_meshes_load_with_dense_models():
    for name in ri.MESHES:
        obj = ri.load_object(name)
        assert obj.model.shape == (ri.MODEL_POINTS, 3) and obj.diameter > 0


def test_variants_parse_to_literal_options_and_reject_malformed_text():
    assert rm.parse_variants("no_diffusion:diffusion=False;few:starts=4,seed=2") == {
        "no_diffusion": {"diffusion": False}, "few": {"starts": 4, "seed": 2}}
    assert rm.parse_variants("") == {}
    for bad in ("nocolon", "x:flag", "x:1a=2"):
        with pytest.raises(ValueError, match="--variants"):
            rm.parse_variants(bad)
