"""Property-based fuzzing (hypothesis) of the single-element and batch API: arbitrary
shapes, dtypes (complex, object, bool, float16, big-endian, non-contiguous, read-only),
NaN/inf, tiny and huge magnitudes. Every call must either return finite values or raise
ValueError/TypeError whose message names the function. Seeded (derandomize) so a run is
reproducible; the examples per test are sized so that the file runs in seconds.
The crash-prone cases (pickling, __new__) live in test_reliability_core.py, in subprocesses."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import manif_py as mp

from groups import GROUPS, GROUP_IDS

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

DTYPES = st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.bool_, np.complex128,
                          np.dtype(">f8"), np.uint8, object])
MAGNITUDES = st.sampled_from([1.0, 1e-300, 1e-155, 1e155, 1e300])
SPECIALS = st.sampled_from([None, np.nan, np.inf, -np.inf])


@st.composite
def arrays(draw, sizes):
    """An array whose shape is usually one of `sizes`, with a drawn dtype and layout."""
    n = draw(st.sampled_from(sizes + [0, 1, 2 * max(sizes)]))
    shape = draw(st.sampled_from([(n,), (n,), (1, n), (n, 1), ()]))
    base = draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3, allow_nan=False)))
    base = np.asarray(base * draw(MAGNITUDES))
    special = draw(SPECIALS)
    if special is not None and base.size:
        base.flat[draw(st.integers(0, base.size - 1))] = special
    dtype = draw(DTYPES)
    with np.errstate(all="ignore"):
        a = np.asarray(base.astype(dtype))
    layout = draw(st.sampled_from(["plain", "strided", "readonly", "list"]))
    if layout == "strided" and a.ndim == 1:
        a = np.repeat(a, 2)[::2]
    elif layout == "readonly":
        a.setflags(write=False)
    elif layout == "list":
        return a.tolist()
    return a


def finite_or_named_error(fn, name):
    """Calls fn(); a result must be finite, an error must be ValueError/TypeError naming `name`."""
    try:
        out = fn()
    except (ValueError, TypeError) as exc:
        assert name in str(exc) or "incompatible" in str(exc), f"{type(exc).__name__} without {name!r}: {exc}"
        return None
    items = out if isinstance(out, tuple) else (out,)
    for item in items:
        values = item.coeffs() if hasattr(item, "coeffs") else np.asarray(item, dtype=float)
        assert np.all(np.isfinite(values)), f"{name} returned non-finite {values}"
    return out


@pytest.mark.parametrize("G", GROUPS, ids=GROUP_IDS)
def test_constructor_exp_and_rplus_on_arbitrary_arrays(G):
    @FUZZ
    @given(rep=arrays([G.rep_size]), tau=arrays([G.dof]), jac=st.booleans())
    def check(rep, tau, jac):
        finite_or_named_error(lambda: G(rep), G.__name__)
        finite_or_named_error(lambda: G.Exp(tau, jacobians=jac), G.__name__)
        finite_or_named_error(lambda: G.Random(seed=1).rplus(tau, jacobians=jac), G.__name__)
        finite_or_named_error(lambda: G.Tangent(tau), G.Tangent.__name__)

    check()


@pytest.mark.parametrize("G", GROUPS, ids=GROUP_IDS)
def test_tangent_scalar_arithmetic(G):
    @FUZZ
    @given(s=st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, -0.0, 1e-320]))
    def check(s):
        tau = G.Random(seed=2).Log()
        finite_or_named_error(lambda: tau * s, G.Tangent.__name__)
        finite_or_named_error(lambda: tau / s, G.Tangent.__name__)

    check()


@pytest.mark.parametrize("G", GROUPS, ids=GROUP_IDS)
def test_batch_exp_and_compose_on_arbitrary_arrays(G):
    batch = getattr(mp.batch, G.__name__)

    @FUZZ
    @given(tau=arrays([G.dof]), n=st.integers(0, 4))
    def check(tau, n):
        arr = np.asarray(tau, dtype=object) if isinstance(tau, list) else tau
        finite_or_named_error(lambda: batch.Exp(np.broadcast_to(arr, (n,) + np.shape(arr)) if np.ndim(arr) == 1 else arr),
                              "Exp")
        X = batch.Random(max(n, 1), seed=3)
        finite_or_named_error(lambda: batch.rplus(X, arr if np.ndim(arr) != 1 else np.broadcast_to(arr, (len(X), len(arr)))),
                              "rplus")

    check()
