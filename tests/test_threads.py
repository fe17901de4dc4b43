"""manif_py.set_num_threads reaches every compiled module (each keeps its own copy)."""

import pytest

import manif_py
from manif_py import _decomp, _registration


def test_set_num_threads_sets_every_module():
    try:
        manif_py.set_num_threads(1)
        assert manif_py.get_num_threads() == _decomp.get_num_threads() == _registration.get_num_threads() == 1
    finally:
        manif_py.set_num_threads(0)
    assert _decomp.get_num_threads() == _registration.get_num_threads() == manif_py.get_num_threads() >= 1


def test_negative_thread_count_is_refused():
    with pytest.raises(ValueError, match="'n' must be >= 0"):
        manif_py.set_num_threads(-1)
