"""Every analytic Jacobian of every group against central differences on the manifold.

Perturbations are applied with rplus (right convention) or lplus (left convention)
and output differences taken with rminus / lminus, so the numerical Jacobian is
  J e_k = [f(x (+) h e_k) (-) f(x) - (f(x (+) -h e_k) (-) f(x))] / 2h.
Step h = 1e-6; tolerance: max |J_num - J| <= 1e-7 * max(1, max |J|).
The single-element path must return the batch path's Jacobians to 1e-12.
"""

import numpy as np
import pytest

from groups import GROUP_IDS, GROUPS, batch_of, hard_cases

H = 1e-6
TOL = 1e-7  # worst seen: 2e-9 (Sim3)
CONVENTIONS = ["right", "left"]

# op name -> (argument kinds, output kind). G: group element, T: tangent, P: point, S: scalar.
OPS = {
    "inverse": ("G", "G"),
    "compose": ("GG", "G"),
    "between": ("GG", "G"),
    "Log": ("G", "T"),
    "Exp": ("T", "G"),
    "act": ("GP", "P"),
    "rplus": ("GT", "G"),
    "lplus": ("GT", "G"),
    "rminus": ("GG", "T"),
    "lminus": ("GG", "T"),
    "interp": ("GGS", "G"),
}


def perturb(b, kind, value, k, step, convention, dof):
    if kind == "G":
        e = np.zeros(dof)
        e[k] = step
        return b.rplus(value, e) if convention == "right" else b.lplus(value, e)
    out = value.copy()
    if kind == "S":
        out = out + step
    else:
        out[:, k] += step
    return out


def difference(b, kind, out, out_p, convention):
    if kind == "G":
        return b.rminus(out_p, out) if convention == "right" else b.lminus(out_p, out)
    return out_p - out


def numerical_jacobians(b, op, kinds, out_kind, args, convention):
    fn = getattr(b, op)
    out = fn(*args)
    jacs = []
    for i, kind in enumerate(kinds):
        width = b.dof if kind in "GT" else (1 if kind == "S" else b.dim)
        cols = []
        for k in range(width):
            plus = list(args)
            minus = list(args)
            plus[i] = perturb(b, kind, args[i], k, H, convention, b.dof)
            minus[i] = perturb(b, kind, args[i], k, -H, convention, b.dof)
            d = difference(b, out_kind, out, fn(*plus), convention) - difference(b, out_kind, out, fn(*minus), convention)
            cols.append(d / (2 * H))
        jacs.append(np.stack(cols, axis=-1))
    return jacs


def build_args(group, op, X, tau, Y, seed):
    kinds, _ = OPS[op]
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    args, g_used = [], 0
    for k in kinds:
        if k == "G":
            args.append([X, Y][g_used])
            g_used += 1
        elif k == "T":
            args.append(tau)
        elif k == "P":
            args.append(rng.normal(size=(n, group.dim)))
        else:
            args.append(rng.uniform(0.1, 0.9, n))
    return args


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("group", GROUPS, ids=GROUP_IDS)
def test_batch_jacobians_match_numerical(group, op, convention):
    b = batch_of(group)
    kinds, out_kind = OPS[op]
    for case_index, (kind, X, tau, Y) in enumerate(hard_cases(group)):
        args = build_args(group, op, X, tau, Y, seed=case_index)
        result = getattr(b, op)(*args, jacobians=True, convention=convention)
        analytic = result[1:]
        numeric = numerical_jacobians(b, op, kinds, out_kind, args, convention)
        assert len(analytic) == len(numeric)
        for j, (Ja, Jn) in enumerate(zip(analytic, numeric)):
            Ja = Ja.reshape(Jn.shape)
            scale = max(1.0, np.abs(Ja).max())
            err = np.abs(Ja - Jn).max() / scale
            assert err < TOL, f"{group.__name__}.{op} ({convention}) J[{j}] at {kind}: error {err:.2e}"


def single_call(group, op, args, i, convention):
    """The same op through the single-element API on element i."""
    kinds, _ = OPS[op]
    vals = []
    for k, a in zip(kinds, args):
        if k == "G":
            vals.append(group(a[i]))
        elif k == "S":
            vals.append(float(a[i]))
        else:
            vals.append(a[i])
    if op == "Exp":
        return group.Exp(vals[0], jacobians=True, convention=convention)
    return getattr(vals[0], op)(*vals[1:], jacobians=True, convention=convention)


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("group", GROUPS, ids=GROUP_IDS)
def test_single_element_jacobians_equal_batch(group, op, convention):
    b = batch_of(group)
    for case_index, (kind, X, tau, Y) in enumerate(hard_cases(group, seed=1)):
        args = build_args(group, op, X, tau, Y, seed=case_index)
        batch_result = getattr(b, op)(*args, jacobians=True, convention=convention)
        for i in range(X.shape[0]):
            single = single_call(group, op, args, i, convention)
            value = single[0]
            value = value.coeffs() if hasattr(value, "coeffs") else np.asarray(value)
            np.testing.assert_allclose(value, batch_result[0][i], atol=1e-12, err_msg=f"{op} value at {kind}")
            for Js, Jb in zip(single[1:], batch_result[1:]):
                np.testing.assert_allclose(Js, Jb[i].reshape(Js.shape), atol=1e-12, err_msg=f"{op} Jacobian at {kind}")


@pytest.mark.parametrize("group", GROUPS, ids=GROUP_IDS)
def test_float32_jacobians_follow_float64(group):
    b = batch_of(group)
    for kind, X, tau, Y in hard_cases(group, seed=2):
        Z64, Jx64, Jy64 = b.compose(X, Y, jacobians=True)
        Z32, Jx32, Jy32 = b.compose(X.astype(np.float32), Y.astype(np.float32), jacobians=True)
        assert Z32.dtype == np.float32 and Jx32.dtype == np.float32
        np.testing.assert_allclose(Jx32, Jx64, atol=2e-5)
        T64, J64 = b.Log(X, jacobians=True)
        T32, J32 = b.Log(X.astype(np.float32), jacobians=True)
        # Log near pi is ill-conditioned in float32; compare away from it.
        if kind != "near_pi":
            np.testing.assert_allclose(T32, T64, atol=5e-4)
