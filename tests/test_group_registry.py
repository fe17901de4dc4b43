"""The compiled core's list of groups (_core.GROUP_NAMES) is the one registry: every place
that lists groups agrees with it (see docs/adding_a_group.md)."""

import pathlib

import manif_py as mp
from manif_py import _core

from groups import ANGLE_SLICE, GROUPS as TESTED

NAMES = _core.GROUP_NAMES


def test_the_registry_lists_every_bound_group_once():
    assert len(NAMES) == len(set(NAMES)) >= 8
    assert {"SO2", "SE2", "SO3", "SE3", "SE23", "SGal3", "Sim3", "R3"} <= set(NAMES)
    assert tuple(g.__name__ for g in mp.GROUPS) == NAMES


def test_every_group_is_exported_with_its_tangent_and_batch_namespace():
    for name in NAMES:
        group = getattr(mp, name)
        assert name in mp.__all__ and name + "Tangent" in mp.__all__
        assert group.Tangent is getattr(mp, name + "Tangent")
        assert hasattr(mp.batch, name)


def test_the_stubs_declare_every_group():
    stub = pathlib.Path(mp.__file__).with_name("_core.pyi").read_text()
    for name in NAMES:
        assert f"class {name}:" in stub and f"class {name}Tangent:" in stub, name


def test_the_shared_test_harness_covers_every_family():
    tested = {g.__name__ for g in TESTED}
    assert {n for n in NAMES if not n.startswith("R")} <= tested  # R1..R6 are sampled
    assert set(ANGLE_SLICE) == {n for n in tested if not n.startswith("R")}


def test_every_group_can_be_an_estimation_variable():
    from manif_py import _estimation

    assert set(_estimation.KIND_NAMES) == set(NAMES)
