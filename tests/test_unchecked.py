"""manif_py.unchecked(): the batch kernels skip per-element input checks inside the
block, give the same results on valid input, and check again after it."""

import numpy as np
import pytest

import manif_py as mp


def test_same_results_on_valid_input_and_checks_resume():
    X = mp.batch.SE3.Random(1000, seed=1)
    Y = mp.batch.SE3.Random(1000, seed=2)
    checked = mp.batch.SE3.compose(X, Y, jacobians=True)
    with mp.unchecked():
        assert not mp._core.get_validation()
        trusted = mp.batch.SE3.compose(X, Y, jacobians=True)
    for a, b in zip(checked, trusted):
        np.testing.assert_array_equal(a, b)
    assert mp._core.get_validation()
    bad = X.copy()
    bad[3, 3:] = 2.0  # not a unit quaternion
    with pytest.raises(ValueError, match="element 3"):
        mp.batch.SE3.compose(bad, Y)


def test_shapes_are_still_checked_and_the_switch_survives_errors():
    with pytest.raises(ValueError, match="shape"):
        with mp.unchecked():
            mp.batch.SE3.compose(np.zeros((3, 6)), np.zeros((3, 7)))
    assert mp._core.get_validation()
