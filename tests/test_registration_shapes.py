"""Procedural objects: determinism, normalisation, outward unit normals, union surfaces,
area-uniform sampling (against a fine mesh of the same part), family coverage, split."""

import math
import time

import numpy as np
import pytest
from scipy.stats import ks_2samp

from manif_py.registration.synthetic import shapes as S
from manif_py.pointcloud import sample_mesh

SEEDS = range(12)


@pytest.mark.parametrize("family", S.FAMILIES)
def test_deterministic_normalised_unit_normals(family):
    for seed in SEEDS:
        a = S.make_object(seed, family, 600)
        b = S.make_object(seed, family, 600)
        assert a.name == b.name and a.name.startswith(family + ":")
        np.testing.assert_array_equal(a.points, b.points)
        np.testing.assert_array_equal(a.normals, b.normals)
        assert a.points.shape == (600, 3) and a.points.dtype == np.float64
        lo, hi = a.points.min(0), a.points.max(0)
        assert np.linalg.norm(hi - lo) == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_allclose(0.5 * (lo + hi), 0.0, atol=1e-12)
        assert a.diameter == 1.0
        np.testing.assert_allclose(np.linalg.norm(a.normals, axis=1), 1.0, atol=1e-12)
    names = {S.make_object(seed, family, 64).name for seed in SEEDS}
    assert len(names) == len(SEEDS), "different seeds give different objects"


@pytest.mark.parametrize("family", S.FAMILIES)
def test_normals_point_out_of_the_solid(family):
    """A step along the normal leaves the solid, a step against it enters, for the
    samples' own CSG solid (so unions and cuts are checked, not only convex parts)."""
    for seed in SEEDS:
        solid, rng = S.make_solid(seed, family)
        p, n = solid.sample(1500, rng)
        eps = 1e-4
        assert solid.contains(p + eps * n).mean() < 0.003
        assert solid.contains(p - eps * n).mean() > 0.997


@pytest.mark.parametrize("family", ["composite", "mechanical"])
def test_union_samples_lie_on_the_boundary(family):
    """No sample is strictly inside an added part (other than the part it came from) or
    inside a subtracted part: the samples cover the real union surface."""
    for seed in SEEDS:
        solid, rng = S.make_solid(seed, family)
        assert len(solid.parts) >= 2
        p, _ = solid.sample(2000, rng)
        assert not solid.contains(p).any()
        for pl in solid.parts:
            if pl.subtract:
                assert not pl.part.inside(pl.to_local(p)).any()


def test_convex_primitives_normals_face_away_from_centre():
    for seed in range(30):
        solid, rng = S.make_solid(seed, "superquadric")
        p, n = solid.sample(1000, rng)
        assert (np.einsum("ij,ij->i", p, n) > 0).all()


def test_composite_part_count_and_family_draw():
    counts = {len(S.solid_parts(seed, "composite")) for seed in range(40)}
    assert counts == {2, 3, 4, 5}
    drawn = {S.make_object(seed, None, 32).name.split(":")[0] for seed in range(60)}
    assert drawn == set(S.FAMILIES)


def test_variety_of_parts():
    names = " ".join(S.make_object(seed, fam, 32).name for fam in S.FAMILIES for seed in range(40))
    for kind in ["box(", "cylinder(", "cone(", "frustum(", "ellipsoid(", "torus(", "superquadric(", "extrusion(", "revolved(", "hexagon("]:
        assert kind in names, kind
    assert " - " in names  # subtractive cuts (notches, holes)
    # sharp and smooth superquadrics
    e = [(p.part.e1, p.part.e2) for s in range(60) for p in S.solid_parts(s, "superquadric")]
    assert min(min(x) for x in e) < 0.2 and max(max(x) for x in e) > 1.6


def _part(kind):
    return {
        "ellipsoid": S.Superquadric([0.5, 0.3, 0.2], 1.0, 1.0, "ellipsoid"),
        "sharp_superquadric": S.Superquadric([0.4, 0.3, 0.25], 0.2, 0.3),
        "pinched_superquadric": S.Superquadric([0.4, 0.3, 0.25], 1.8, 1.5),
        "torus": S.Torus(0.4, 0.15),
        "revolved": S.Revolved([-0.5, -0.1, 0.2, 0.5], [0.3, 0.1, 0.4, 0.0]),
        "prism": S.Prism(S._star_polygon(np.random.default_rng(4), 7), 0.3),
        "box": S.Box([0.5, 0.2, 0.1]),
    }[kind]


@pytest.mark.parametrize("kind", ["ellipsoid", "sharp_superquadric", "pinched_superquadric", "torus", "revolved", "prism", "box"])
def test_area_uniform_against_fine_mesh(kind):
    """The analytic sampler and area-weighted sampling of a fine tessellation of the same
    part give the same coordinate distributions; areas agree too."""
    part = _part(kind)
    v, f = part.mesh(96) if kind not in ("prism", "box") else part.mesh()
    tri = v[f]
    mesh_area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum()
    assert part.area == pytest.approx(mesh_area, rel=0.01)
    p, n = part.sample(8000, np.random.default_rng(1))
    q = sample_mesh(v, f, 8000, seed=2).points
    for axis in range(3):
        assert ks_2samp(p[:, axis], q[:, axis]).pvalue > 1e-3, axis
    assert ks_2samp(np.linalg.norm(p, axis=1), np.linalg.norm(q, axis=1)).pvalue > 1e-3


def test_meshes_are_closed_and_outward():
    for family in ("primitive", "superquadric", "extrusion", "revolved"):
        for seed in range(8):
            v, f = S.make_mesh(seed, family)
            assert f.min() >= 0 and f.max() < len(v)
            vol = np.einsum("ij,ij->i", v[f[:, 0]], np.cross(v[f[:, 1]], v[f[:, 2]])).sum() / 6.0
            assert vol > 0, (family, seed)
            edges = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
            _, counts = np.unique(edges, axis=0, return_counts=True)
            assert (counts == 2).all(), "every edge is shared by exactly two faces"
    with pytest.raises(ValueError, match="family"):
        S.make_mesh(0, "composite")


def test_split_is_disjoint():
    assert not set(S.TRAIN_FAMILIES) & set(S.TEST_FAMILIES)
    assert set(S.TRAIN_FAMILIES) | set(S.TEST_FAMILIES) == set(S.FAMILIES)
    assert S.TRAIN_SEEDS.stop <= S.TEST_SEEDS.start
    assert S.split(0) == "train" and S.split(S.TEST_SEEDS.start) == "test"
    with pytest.raises(ValueError, match="seed"):
        S.split(S.TEST_SEEDS.stop + 5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="'family'"):
        S.make_object(0, "teapot")
    with pytest.raises(ValueError, match="'n_points'"):
        S.make_object(0, "primitive", 1)
    with pytest.raises(ValueError, match="'n_points'"):
        S.make_object(0, "primitive", 2.5)
    with pytest.raises(TypeError, match="'rng'"):
        S.make_object("zero", "primitive")
    with pytest.raises(ValueError, match="'rng'"):
        S.make_object(-3, "primitive")


def test_speed_2048_points():
    """Training draws objects on the fly: a few ms each (generous bound for a loaded CI box)."""
    for family in S.FAMILIES:
        S.make_object(0, family)
    times = []
    for seed in range(60):
        t0 = time.perf_counter()
        S.make_object(seed, S.FAMILIES[seed % len(S.FAMILIES)], 2048)
        times.append(time.perf_counter() - t0)
    assert np.median(times) < 0.02
