"""The shipped type stubs (python/manif_py/_core.pyi) describe the real API:
every public name of every group, tangent and batch namespace appears in them,
and they name nothing that does not exist. Regenerate with tools/generate_stubs.py."""

import ast
import pathlib

import pytest

import manif_py as mp

STUB = pathlib.Path(mp.__file__).with_name("_core.pyi")


def stub_classes():
    tree = ast.parse(STUB.read_text())
    classes = {}

    def collect(node, prefix=""):
        for item in node.body:
            if isinstance(item, ast.ClassDef):
                names = {n.name for n in item.body if isinstance(n, ast.FunctionDef)}
                names |= {n.target.id for n in item.body if isinstance(n, ast.AnnAssign)}
                classes[prefix + item.name] = names
                collect(item, prefix + item.name + ".")

    collect(tree)
    return classes


def public(obj):
    return {n for n in dir(obj) if not n.startswith("_")}


@pytest.mark.parametrize("group", mp.GROUPS, ids=[g.__name__ for g in mp.GROUPS])
def test_stubs_match_the_runtime_api(group):
    classes = stub_classes()
    for cls in (group, group.Tangent):
        assert public(cls) == {n for n in classes[cls.__name__] if not n.startswith("_")}, cls.__name__
    batch_ns = getattr(mp.batch, group.__name__)
    assert public(batch_ns) == classes["batch." + group.__name__]


def test_package_is_marked_typed():
    assert STUB.with_name("py.typed").exists()
