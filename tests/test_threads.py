"""manif_py.set_num_threads reaches every compiled module: they share _core's settings."""

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


def test_the_modules_read_one_setting_not_copies():
    # Set through _core alone, with no fan-out: the other modules see it because they read
    # _core's instance (adopted at import), not copies of their own.
    from manif_py import _core

    assert not hasattr(_decomp, "set_num_threads") and not hasattr(_registration, "set_num_threads")
    try:
        _core.set_num_threads(3)
        assert _decomp.get_num_threads() == _registration.get_num_threads() == 3
    finally:
        manif_py.set_num_threads(0)


def test_negative_thread_count_is_refused():
    with pytest.raises(ValueError, match="'n' must be >= 0"):
        manif_py.set_num_threads(-1)


def test_default_policy_leaves_busy_cores_alone(monkeypatch):
    from manif_py import _threads

    monkeypatch.setattr(_threads, "available_cores", lambda: 8)
    monkeypatch.setattr(_threads, "busy_cores", lambda: 3)
    assert _threads.default_threads() == 5
    monkeypatch.setattr(_threads, "busy_cores", lambda: 20)
    assert _threads.default_threads() == 1  # never zero


def test_set_num_threads_reaches_torch_too():
    torch = pytest.importorskip("torch")
    from manif_py import _threads

    before = torch.get_num_threads()
    try:
        manif_py.set_num_threads(1)
        assert torch.get_num_threads() == 1 == _registration.get_num_threads()
        assert _threads.apply() == 1  # the user's count holds when the pipeline re-applies the policy
        manif_py.set_num_threads(0)
        k = _threads.default_threads()
        assert 1 <= torch.get_num_threads() <= _threads.available_cores() and _registration.get_num_threads() >= 1
        assert k >= 1
    finally:
        manif_py.set_num_threads(0)
        torch.set_num_threads(before)


def test_busy_cores_reads_the_kernel_count():
    from manif_py import _threads

    assert 0 <= _threads.busy_cores() < 10_000
    assert 1 <= _threads.available_cores() <= (__import__("os").cpu_count() or 1)
