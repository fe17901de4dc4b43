"""Shared test fixtures: every group, and hard elements of each (Sophus style)."""

import numpy as np

import manif_py as mp

GROUPS = [mp.SO2, mp.SE2, mp.SO3, mp.SE3, mp.SE23, mp.SGal3, mp.Sim3, mp.R1, mp.R3, mp.R6]
GROUP_IDS = [g.__name__ for g in GROUPS]

# Which tangent coordinates hold the rotation angle(s), for building near-pi elements.
ANGLE_SLICE = {
    "SO2": slice(0, 1), "SE2": slice(2, 3), "SO3": slice(0, 3), "SE3": slice(3, 6),
    "SE23": slice(3, 6), "Sim3": slice(3, 6), "SGal3": slice(6, 9),
}


def batch_of(group):
    return getattr(mp.batch, group.__name__)


def tangent_with_angle(group, rng, angle, other_scale=1.0):
    """A random tangent whose rotation angle has the given magnitude."""
    tau = rng.uniform(-1, 1, group.dof) * other_scale
    sl = ANGLE_SLICE.get(group.__name__)
    if sl is not None:
        axis = rng.normal(size=sl.stop - sl.start)
        tau[sl] = angle * axis / np.linalg.norm(axis)
    return tau


def hard_cases(group, seed=0, per_kind=3):
    """(kind, X, tau, Y) arrays with the element axis first.

    identity: X = I, tau = 0, Y near X; near_identity: tangent norms 1e-8;
    threshold: angles near the Taylor switch points (1e-3, 1e-2); random;
    near_pi: rotation angles pi - 1e-4 in X, tau and in the difference X^-1 Y.
    """
    rng = np.random.default_rng(seed)
    b = batch_of(group)
    cases = []

    def mk(kind, taus_x, taus, taus_y):
        X = b.Exp(np.array(taus_x))
        Y = b.rplus(X, np.array(taus_y))
        cases.append((kind, X, np.array(taus), Y))

    n = per_kind
    mk("identity", [np.zeros(group.dof)] * n, [np.zeros(group.dof)] * n,
       [tangent_with_angle(group, rng, 1e-8, 1e-8) for _ in range(n)])
    mk("near_identity", *[[tangent_with_angle(group, rng, 1e-8, 1e-8) for _ in range(n)] for _ in range(3)])
    mk("threshold", *[[tangent_with_angle(group, rng, a, a) for a in (1e-3, 1e-2, 3e-2)] for _ in range(3)])
    mk("random", *[[tangent_with_angle(group, rng, rng.uniform(0.1, 3.0)) for _ in range(n)] for _ in range(3)])
    if group.__name__ in ANGLE_SLICE:
        mk("near_pi", *[[tangent_with_angle(group, rng, np.pi - 1e-4) for _ in range(n)] for _ in range(3)])
    return cases
