"""manif_py.estimation: factor graphs, GN / LM, robust losses, covariances, custom factors,
g2o / TORO files, the error-state Kalman filter. Every graph is generated here (no data
files, no gtsam); every bad input must raise an error that names the line or the factor."""

import math

import numpy as np
import pytest

import manif_py as mp
from manif_py import estimation as est

RNG = np.random.default_rng


# ----------------------------------------------------------------------------- helpers


def tangent(G, v):
    return G.Tangent(np.asarray(v, dtype=np.float64))


def noisy(X, sigma, rng):
    return X.rplus(tangent(type(X), rng.normal(0.0, sigma, X.dof)))


def circle_se2(n=100, radius=10.0):
    """Poses on a circle, heading tangent to it."""
    out = []
    for k in range(n):
        a = 2 * math.pi * k / n
        out.append(mp.SE2(np.array([radius * math.cos(a), radius * math.sin(a), math.cos(a + math.pi / 2),
                                    math.sin(a + math.pi / 2)])))
    return out


def sphere_se3(n=120, radius=5.0):
    """Poses on a sphere (a spiral of latitudes), looking outwards."""
    out = []
    for k in range(n):
        lat = math.pi * (k + 0.5) / n - math.pi / 2
        lon = 8 * 2 * math.pi * k / n
        t = radius * np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
        R = mp.SO3.Exp(np.array([0.0, 0.0, lon])).compose(mp.SO3.Exp(np.array([0.0, -lat, 0.0])))
        out.append(mp.SE3(np.concatenate([t, R.coeffs()])))
    return out


def pose_graph(truth, sigmas, loops, rng, init_sigma):
    """Odometry + loop closures with noise `sigmas` (dof,), initial values from noisy odometry."""
    G = type(truth[0])
    info = np.diag(1.0 / np.asarray(sigmas) ** 2)
    g = est.FactorGraph()
    meas = []
    for i in range(len(truth) - 1):
        meas.append((i, i + 1, noisy(truth[i].between(truth[i + 1]), np.asarray(sigmas), rng)))
    for i, j in loops:
        meas.append((i, j, noisy(truth[i].between(truth[j]), np.asarray(sigmas), rng)))
    init = [truth[0]]
    for i in range(len(truth) - 1):
        init.append(noisy(init[-1].compose(meas[i][2]), init_sigma, rng))
    keys = g.add_variables(G, init)
    g.add_prior(keys[0], truth[0], 1e6)
    g.add_betweens([m[0] for m in meas], [m[1] for m in meas], [m[2] for m in meas], info)
    return g, keys


def pose_errors(values, truth):
    return np.array([values[k].rminus(truth[k]).coeffs() for k in range(len(truth))])


def numeric_jacobians(g, fid, keys, eps=1e-6):
    """Central differences of the whitened residual of factor `fid` w.r.t. right perturbations."""
    blocks = []
    for k in keys:
        X = g.value(k)
        cols = []
        for a in range(X.dof):
            d = np.zeros(X.dof)
            d[a] = eps
            g.set_value(k, X.rplus(tangent(type(X), d)))
            rp = g.residual(fid)
            g.set_value(k, X.rplus(tangent(type(X), -d)))
            rm = g.residual(fid)
            cols.append((rp - rm) / (2 * eps))
        g.set_value(k, X)
        blocks.append(np.stack(cols, axis=1))
    return blocks


# ----------------------------------------------------------------------------- solving


def test_se2_circle_converges_to_truth_and_gn_lm_agree():
    rng = RNG(0)
    truth = circle_se2(100)
    sig = [0.05, 0.05, 0.01]
    loops = [(i, (i + 50) % 100) for i in range(0, 50, 5)] + [(99, 0)]
    g, keys = pose_graph(truth, sig, loops, rng, init_sigma=0.02)
    g_gn = g.copy()
    r_lm = g.solve(method="lm", relative_tolerance=1e-12)
    r_gn = g_gn.solve(method="gn", relative_tolerance=1e-12)
    assert r_lm.converged and r_gn.converged
    assert r_lm.final_chi2 < 1e-2 * r_lm.initial_chi2
    # chi2 at the optimum ~ (#residuals - #unknowns) for a consistent problem.
    m = 3 * (99 + len(loops)) + 3 - 3 * 100
    assert 0.3 * m < r_lm.final_chi2 < 3.0 * m
    err = pose_errors(r_lm.values, truth)
    assert np.abs(err[:, 2]).max() < 0.1 and np.abs(err[:, :2]).max() < 1.0
    # GN and LM reach the same minimum.
    assert r_gn.final_chi2 == pytest.approx(r_lm.final_chi2, rel=1e-9)
    assert np.abs(r_gn.values.array() - r_lm.values.array()).max() < 1e-6


def test_se3_sphere_converges_to_truth():
    rng = RNG(1)
    truth = sphere_se3(120)
    sig = [0.02, 0.02, 0.02, 0.005, 0.005, 0.005]
    loops = [(i, i + 15) for i in range(0, 105, 3)]
    g, keys = pose_graph(truth, sig, loops, rng, init_sigma=0.01)
    r = g.solve(method="lm", relative_tolerance=1e-12)
    assert r.converged
    m = 6 * (119 + len(loops)) + 6 - 6 * 120
    assert 0.3 * m < r.final_chi2 < 3.0 * m
    err = pose_errors(r.values, truth)
    assert np.abs(err[:, 3:]).max() < 0.05 and np.abs(err[:, :3]).max() < 0.5
    g2 = g.copy()
    g2.set_values(keys, r.values.array())  # restart at the optimum: nothing left to gain
    r2 = g2.solve(method="gn")
    assert r2.final_chi2 == pytest.approx(r.final_chi2, rel=1e-8)


def test_robust_loss_downweights_an_outlier_loop_closure():
    rng = RNG(2)
    truth = circle_se2(60)
    sig = np.array([0.02, 0.02, 0.005])
    g, keys = pose_graph(truth, sig, [(0, 30), (10, 40)], rng, init_sigma=0.0)
    clean = g.copy().solve(relative_tolerance=1e-12).values.array()  # without the outlier
    wrong = truth[5].between(truth[45]).compose(mp.SE2.from_xytheta(3.0, -2.0, 1.0))
    fid = g.add_between(5, 45, wrong, np.diag(1 / sig**2))

    def deviation(result):
        return np.abs(result.values.array()[:, :2] - clean[:, :2]).max()

    plain = g.copy().solve()
    cauchy_graph = g.copy()
    cauchy = cauchy_graph.solve(robust=("cauchy", 1.0), relative_tolerance=1e-12)
    huber = g.copy().solve(robust="huber", relative_tolerance=1e-12)
    assert deviation(plain) > 1.0  # the outlier bends the plain solution by metres
    assert deviation(cauchy) < 0.01  # Cauchy all but ignores it
    assert deviation(huber) < 0.1 * deviation(plain)  # Huber bounds its influence
    r = cauchy_graph.residual(fid)
    assert r @ r > 1e4  # the outlier is left unexplained ...
    assert cauchy.final_cost < 0.01 * cauchy.final_chi2  # ... at a bounded robust cost


def test_per_factor_robust_loss():
    g = est.FactorGraph()
    x = g.add_variable(mp.R1(np.array([0.0])))
    g.add_prior(x, mp.R1(np.array([0.0])), 1.0)
    g.add_prior(x, mp.R1(np.array([100.0])), 1.0, robust=("huber", 1.0))
    r = g.solve(relative_tolerance=1e-14)
    # Huber with k = 1: the outlier pulls with constant force 1 against the quadratic x:
    # d/dx [x^2 + 2 k |x - 100|] = 0 -> x = k = 1.
    assert r.values[x].coeffs()[0] == pytest.approx(1.0, abs=1e-6)


def test_marginal_covariance_of_a_chain_matches_the_analytic_one():
    s0, s = 0.3, 0.2
    n = 20
    g = est.FactorGraph()
    keys = g.add_variables(mp.R1, np.zeros((n, 1)))
    g.add_prior(keys[0], mp.R1(np.array([0.0])), 1 / s0**2)
    g.add_betweens(keys[:-1], keys[1:], np.ones((n - 1, 1)), np.array([[1 / s**2]]))
    r = g.solve(covariances=keys)
    for k in range(n):
        assert r.covariances[int(keys[k])][0, 0] == pytest.approx(s0**2 + k * s**2, rel=1e-10)
    J = g.joint_covariance(keys)
    expected = s0**2 + s**2 * np.minimum.outer(np.arange(n), np.arange(n))
    np.testing.assert_allclose(J, expected, rtol=1e-10)


def test_covariance_equals_dense_inverse_of_the_information():
    rng = RNG(3)
    truth = circle_se2(12)
    g, keys = pose_graph(truth, [0.1, 0.1, 0.02], [(0, 6), (3, 9)], rng, init_sigma=0.01)
    g.solve()
    # Dense H = sum J^T J over factors from the whitened numeric Jacobians.
    n = 3 * len(keys)
    H = np.zeros((n, n))
    for f in range(g.num_factors):
        fk = _factor_keys(g, f)
        blocks = numeric_jacobians(g, f, fk)
        J = np.zeros((len(g.residual(f)), n))
        for k, B in zip(fk, blocks):
            J[:, 3 * k:3 * k + 3] = B
        H += J.T @ J
    np.testing.assert_allclose(g.joint_covariance(keys), np.linalg.inv(H), rtol=1e-4, atol=1e-10)


def _factor_keys(g, fid):
    """Variable keys of a factor, parsed from its description 'factor i (type on x3 (SE2), x4 (SE2))'."""
    inside = g.describe_factor(fid).split(" on ", 1)[1]
    return [int(tok[1:]) for tok in inside.replace(",", " ").split() if tok.startswith("x") and tok[1:].isdigit()]


@pytest.mark.parametrize("G", [mp.SO2, mp.SE2, mp.SO3, mp.SE3, mp.R1, mp.R2, mp.R3, mp.R6])
def test_builtin_jacobians_match_numeric(G):
    rng = RNG(4)
    g = est.FactorGraph()
    a = g.add_variable(G.Random())
    b = g.add_variable(G.Random())
    info = np.eye(G.dof) + 0.1 * np.ones((G.dof, G.dof))
    fp = g.add_prior(a, G.Random(), info)
    fb = g.add_between(a, b, G.Random(), info)
    for fid, ks in ((fp, [a]), (fb, [a, b])):
        num = numeric_jacobians(g, fid, ks)
        ana = g._g.jacobians(fid)
        for A, N in zip(ana, num):
            np.testing.assert_allclose(A, N, atol=1e-6)
    del rng


def test_point_and_range_bearing_jacobians_match_numeric():
    g = est.FactorGraph()
    x2 = g.add_variable(mp.SE2.from_xytheta(0.3, -0.2, 0.4))
    l2 = g.add_variable(mp.R2(np.array([2.0, 1.5])))
    x3 = g.add_variable(mp.SE3.Random())
    l3 = g.add_variable(mp.R3(np.array([1.0, -2.0, 0.5])))
    f1 = g.add_point(x2, l2, [1.0, 1.0], np.diag([2.0, 3.0]))
    f2 = g.add_range_bearing(x2, l2, 0.3, 2.0, np.diag([4.0, 1.0]))
    f3 = g.add_point(x3, l3, [0.1, 0.2, 0.3], np.eye(3) * 2)
    for fid, ks in ((f1, [x2, l2]), (f2, [x2, l2]), (f3, [x3, l3])):
        for A, N in zip(g._g.jacobians(fid), numeric_jacobians(g, fid, ks)):
            np.testing.assert_allclose(A, N, atol=1e-6)


def test_se2_smoothing_and_mapping_with_landmarks():
    rng = RNG(5)
    truth = circle_se2(40, radius=5.0)
    lms = [np.array([6.5 * math.cos(a), 6.5 * math.sin(a)]) for a in np.linspace(0, 2 * math.pi, 8, endpoint=False)]
    g = est.FactorGraph()
    xs = g.add_variables(mp.SE2, [noisy(X, 0.05, rng) for X in truth])
    ls = g.add_variables(mp.R2, [p + rng.normal(0, 0.3, 2) for p in lms])
    g.add_prior(xs[0], truth[0], 1e4)
    for i in range(39):
        g.add_between(xs[i], xs[i + 1], noisy(truth[i].between(truth[i + 1]), 0.01, rng), 1e4)
    for i, X in enumerate(truth):
        for j, p in enumerate(lms):
            q = X.inverse().act(p)
            if np.linalg.norm(q) < 4.0:
                if j % 2:
                    g.add_range_bearing(xs[i], ls[j], math.atan2(q[1], q[0]) + rng.normal(0, 0.01),
                                        np.linalg.norm(q) + rng.normal(0, 0.01), 1e4)
                else:
                    g.add_point(xs[i], ls[j], q + rng.normal(0, 0.01, 2), 1e4)
    r = g.solve(covariances=ls)
    assert r.converged
    # Every landmark within its 99.99% confidence ellipse (chi2, 2 dof: 18.4).
    for k, p in zip(ls, lms):
        e = r.values[k].coeffs() - p
        assert e @ np.linalg.solve(r.covariances[int(k)], e) < 18.4


def test_se3_landmarks_and_fixed_pose():
    rng = RNG(6)
    truth = [mp.SE3.Random() for _ in range(6)]
    pts = rng.uniform(-2, 2, (10, 3))
    g = est.FactorGraph()
    xs = g.add_variables(mp.SE3, [noisy(X, 0.05, rng) for X in truth])
    g.set_value(xs[0], truth[0])
    g.fix(xs[0])
    ls = g.add_variables(mp.R3, pts + rng.normal(0, 0.1, pts.shape))
    for i, X in enumerate(truth):
        for j, p in enumerate(pts):
            g.add_point(xs[i], ls[j], X.inverse().act(p), 1e6)
    r = g.solve(method="gn", relative_tolerance=1e-12)
    assert r.final_chi2 < 1e-12
    assert np.abs(r.values.array(ls) - pts).max() < 1e-6
    assert g.is_fixed(xs[0]) and truth[0].rminus(r.values[xs[0]]).norm() < 1e-12
    np.testing.assert_allclose(g.marginal_covariance(xs[0]), np.zeros((6, 6)))


def test_custom_python_factor():
    # A position ("GPS") factor on an SE2 pose, written in Python: the pose's translation
    # goes where the factor says (the prior leaves it free), and its Jacobian is exact.
    calls = []

    def gps(X, z=np.array([1.0, 2.0])):
        calls.append(1)
        p, J, _ = X.act(np.zeros(2), jacobians=True)  # translation and its right Jacobian
        return p - z, [J]

    g = est.FactorGraph()
    x = g.add_variable(mp.SE2.from_xytheta(0.0, 0.0, 0.3))
    y = g.add_variable(mp.SE2.from_xytheta(1.0, 0.0, 0.0))
    g.add_between(x, y, mp.SE2.from_xytheta(1.0, 0.5, 0.2), 100.0)
    g.add_prior(x, mp.SE2.from_xytheta(0.0, 0.0, 0.1), np.diag([1e-6, 1e-6, 100.0]))
    g.add_factor([x], gps, 2, np.diag([4.0, 9.0]))
    r = g.solve(method="gn", relative_tolerance=1e-14)
    assert calls and r.converged
    np.testing.assert_allclose(r.values[x].translation(), [1.0, 2.0], atol=1e-6)
    for A, N in zip(g._g.jacobians(g.num_factors - 1), numeric_jacobians(g, g.num_factors - 1, [x])):
        np.testing.assert_allclose(A, N, atol=1e-6)


def test_custom_factor_errors_name_the_factor():
    g = est.FactorGraph()
    x = g.add_variable(mp.SE2.Identity())
    g.add_prior(x, mp.SE2.Identity())
    fid = g.add_factor([x], lambda X: (np.zeros(3), [np.eye(3)]), 2)
    with pytest.raises(RuntimeError, match=f"factor {fid} .*length 3, expected 2"):
        g.solve()
    g2 = est.FactorGraph()
    x = g2.add_variable(mp.SE2.Identity())
    g2.add_prior(x, mp.SE2.Identity())
    g2.add_factor([x], lambda X: (np.array([np.nan]), [np.zeros((1, 3))]), 1)
    with pytest.raises(RuntimeError, match="factor 1 .*NaN"):
        g2.solve()

    def boom(X):
        raise KeyError("from user code")

    g3 = est.FactorGraph()
    x = g3.add_variable(mp.SE2.Identity())
    g3.add_factor([x], boom, 3)
    with pytest.raises(KeyError, match="from user code"):
        g3.solve()


def test_solve_updates_in_place_and_copy_is_independent():
    g = est.FactorGraph()
    x = g.add_variable(mp.SE2.from_xytheta(1, 2, 3))
    g.add_prior(x, mp.SE2.Identity())
    h = g.copy()
    g.solve()
    assert mp.SE2.Identity().rminus(g.value(x)).norm() < 1e-9
    assert mp.SE2.from_xytheta(1, 2, 3).rminus(h.value(x)).norm() < 1e-12
    assert g.chi2() < 1e-18 and h.chi2() > 1


# ----------------------------------------------------------------------------- files


def _num(v):
    return repr(float(v))


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_g2o_round_trip_2d(tmp_path):
    rng = RNG(7)
    n = 8
    poses = [mp.SE2.Random() for _ in range(n)]
    lines = [f"VERTEX_SE2 {i} {X.x():.17g} {X.y():.17g} {X.angle():.17g}" for i, X in enumerate(poses)]
    for i in range(n - 1):
        Z = poses[i].between(poses[i + 1])
        A = rng.normal(size=(3, 3))
        info = A @ A.T + np.eye(3)
        up = info[np.triu_indices(3)]
        lines.append(f"EDGE_SE2 {i} {i + 1} {Z.x()} {Z.y()} {Z.angle()} " + " ".join(_num(v) for v in up))
    lines += ["VERTEX_XY 100 1.5 2.5", "EDGE_SE2_XY 3 100 0.5 -0.5 10 1 20", "FIX 0"]
    p = _write(tmp_path, "a.g2o", "\n".join(lines) + "\n")
    d = est.read_g2o(p)
    assert d.group is mp.SE2 and len(d.pose_ids) == n and len(d.edges) == n - 1
    np.testing.assert_allclose(d.point_information[0], [[10, 1], [1, 20]])
    est.write_g2o(tmp_path / "b.g2o", d)
    d2 = est.read_g2o(tmp_path / "b.g2o")
    for f in ("pose_ids", "poses", "edges", "measurements", "information", "landmark_ids", "landmarks",
              "point_edges", "points", "point_information", "fixed_ids"):
        np.testing.assert_allclose(getattr(d2, f), getattr(d, f), atol=1e-14, err_msg=f)
    # The optimised estimate can be written back.
    g = d.to_graph(prior=None)
    r = g.solve()
    est.write_g2o(tmp_path / "c.g2o", d.with_estimate(r.values))
    d3 = est.read_g2o(tmp_path / "c.g2o")
    np.testing.assert_allclose(d3.poses, r.values.array(np.arange(n)), atol=1e-14)


def test_g2o_round_trip_3d_with_offdiagonal_information(tmp_path):
    rng = RNG(8)
    poses = [mp.SE3.Random() for _ in range(5)]
    lines = ["VERTEX_SE3:QUAT {} ".format(i) + " ".join(_num(v) for v in X.coeffs()) for i, X in enumerate(poses)]
    infos = []
    for i in range(4):
        Z = poses[i].between(poses[i + 1])
        A = rng.normal(size=(6, 6))
        info = A @ A.T + np.eye(6)
        infos.append(info)
        lines.append(f"EDGE_SE3:QUAT {i} {i + 1} " + " ".join(_num(v) for v in Z.coeffs()) + " "
                     + " ".join(_num(v) for v in info[np.triu_indices(6)]))
    p = _write(tmp_path, "a.g2o", "\n".join(lines) + "\n")
    d = est.read_g2o(p)
    np.testing.assert_allclose(d.information, np.array(infos), rtol=1e-15)
    est.write_g2o(tmp_path / "b.g2o", d)
    d2 = est.read_g2o(tmp_path / "b.g2o")
    np.testing.assert_allclose(d2.poses, d.poses, atol=1e-15)
    np.testing.assert_allclose(d2.measurements, d.measurements, atol=1e-15)
    np.testing.assert_allclose(d2.information, d.information, rtol=1e-15)


def test_g2o_se3_information_is_translation_first(tmp_path):
    # g2o's EDGE_SE3:QUAT information is in (translation, rotation) order, like our
    # (rho, theta) tangent: a pure translation error of 1 m along x must cost I[0, 0],
    # a pure rotation of 0.1 rad about z must cost 0.01 * I[5, 5].
    info = np.diag([1.0, 2.0, 3.0, 40.0, 50.0, 60.0])
    info[0, 5] = info[5, 0] = 0.5  # an off-diagonal translation-rotation entry
    up = " ".join(_num(v) for v in info[np.triu_indices(6)])
    text = ("VERTEX_SE3:QUAT 0 0 0 0 0 0 0 1\n"
            "VERTEX_SE3:QUAT 1 1 0 0 0 0 0 1\n"
            "VERTEX_SE3:QUAT 2 0 0 0 0 0 {} {}\n".format(math.sin(0.05), math.cos(0.05))
            + f"EDGE_SE3:QUAT 0 1 0 0 0 0 0 0 1 {up}\n"
            + f"EDGE_SE3:QUAT 0 2 0 0 0 0 0 0 1 {up}\n")
    d = est.read_g2o(_write(tmp_path, "t.g2o", text))
    np.testing.assert_allclose(d.information[0], info)
    g = d.to_graph(prior=None)
    assert g.residual(0) @ g.residual(0) == pytest.approx(1.0)
    assert g.residual(1) @ g.residual(1) == pytest.approx(0.01 * 60.0)
    g.fix(0)
    g.fix(1)
    g.fix(2)
    assert g.chi2() == pytest.approx(1.0 + 0.6)


def test_toro_edge2_information_order(tmp_path):
    # TORO: inf_ff inf_fs inf_ss inf_rr inf_fr inf_sr.
    text = "VERTEX2 0 0 0 0\nVERTEX2 1 1 0 0\nEDGE2 0 1 1 0 0 10 1 20 30 2 3\n"
    d = est.read_toro(_write(tmp_path, "t.graph", text))
    np.testing.assert_allclose(d.information[0], [[10, 1, 2], [1, 20, 3], [2, 3, 30]])
    # g2o order (I11 I12 I13 I22 I23 I33) on request.
    text = "VERTEX2 0 0 0 0\nVERTEX2 1 1 0 0\nEDGE2 0 1 1 0 0 10 1 2 30 3 40\n"
    d = est.read_toro(_write(tmp_path, "v.graph", text), edge2_order="g2o")
    np.testing.assert_allclose(d.information[0], [[10, 1, 2], [1, 30, 3], [2, 3, 40]])
    # "auto" picks g2o when the TORO diagonal has zeros (w20000.txt style).
    text = "EDGE2 0 1 1 0 0 3 0 0 4 0 5\nEDGE2 1 2 1 0 0 3 0 0 4 0 5\nEQUIV 2 0\n"
    d = est.read_toro(_write(tmp_path, "u.txt", text))
    np.testing.assert_allclose(d.information[0], np.diag([3, 4, 5]))
    # No vertices: initial values composed along the edges.
    np.testing.assert_allclose(d.poses[:, 0], [0, 1, 2], atol=1e-15)
    np.testing.assert_array_equal(d.equivalences, [[2, 0]])


def test_toro_3d_edges_and_vertices(tmp_path):
    rpy = np.array([0.1, -0.2, 0.3])
    text = ("VERTEX3 0 0 0 0 0 0 0\nVERTEX3 1 1 2 3 0.1 -0.2 0.3\n"
            "EDGE3 0 1 1 2 3 0.1 -0.2 0.3\n")  # information omitted: identity
    d = est.read_toro(_write(tmp_path, "t.graph", text))
    R = mp.SO3.Exp(np.array([0, 0, rpy[2]])).compose(mp.SO3.Exp(np.array([0, rpy[1], 0]))).compose(
        mp.SO3.Exp(np.array([rpy[0], 0, 0])))
    q = d.poses[1, 3:]
    assert abs(abs(q @ R.coeffs()) - 1) < 1e-12  # R = Rz(yaw) Ry(pitch) Rx(roll)
    np.testing.assert_allclose(d.information[0], np.eye(6))
    assert d.to_graph().chi2() < 1e-20


def test_landmarks_from_observations(tmp_path):
    text = ("VERTEX_SE2 0 1 0 0\nVERTEX_SE2 1 2 0 0\nEDGE_SE2 0 1 1 0 0 1 0 0 1 0 1\n"
            "LANDMARK2 0 7 1 1 10 0 10\nBR 1 8 1.5707963267948966 2 0.1 0.2\n")
    d = est.read_graph(_write(tmp_path, "l.g2o", text))
    np.testing.assert_array_equal(d.landmark_ids, [7, 8])
    np.testing.assert_allclose(d.landmarks, [[2, 1], [2, 2]], atol=1e-12)
    np.testing.assert_allclose(d.range_bearing_information[0], np.diag([100, 25]))
    assert d.to_graph().chi2() < 1e-20
    with pytest.raises(ValueError, match="range-bearing"):
        est.write_g2o(tmp_path / "x.g2o", d)


# ----------------------------------------------------------------------------- bad input

BAD_FILES = [
    ("VERTEX_SE2 0 0 0\n", r"bad\.g2o:1: VERTEX_SE2 expects 4 numbers after the tag, got 3"),
    ("VERTEX_SE2 0 0 0 0\nVERTEX_SE2 1 0 zero 0\n", r"bad\.g2o:2: VERTEX_SE2: cannot read 'zero' as a number"),
    ("VERTEX_SE2 0 0 0 0\nVERTEX_SE2 1 0 0 0\nEDGE_SE2 0 1 nan 0 0 1 0 0 1 0 1\n", r"bad\.g2o:3: EDGE_SE2: NaN or inf"),
    ("VERTEX_SE2 0 0 0 0\nVERTEX_SE2 1 0 0 0\nEDGE_SE2 0 1 1 0 0 1 0 0 -1 0 1\n",
     r"bad\.g2o:3: EDGE_SE2: information matrix is not positive definite"),
    ("VERTEX_SE2 0 0 0 0\nVERTEX_SE2 1 0 0 0\nEDGE_SE2 0 1 1 0 0 1 2 0 1 0 1\n",
     r"bad\.g2o:3: EDGE_SE2: information matrix is not positive definite"),
    ("VERTEX_SE2 0.5 0 0 0\n", r"bad\.g2o:1: VERTEX_SE2: ids must be non-negative integers"),
    ("VERTEX_SE2 0 0 0 0\nVERTEX_SE2 0 1 0 0\n", r"bad\.g2o:2: pose id 0 is defined twice \(first on line 1\)"),
    ("VERTEX_SE2 0 0 0 0\nFOO 1 2\n", r"bad\.g2o:2: unknown tag 'FOO'"),
    ("VERTEX_SE2 0 0 0 0\nVERTEX_SE3:QUAT 1 0 0 0 0 0 0 1\n", r"mixes 2D \(VERTEX_SE2\) and 3D"),
    ("VERTEX_SE3:QUAT 0 0 0 0 0 0 0 0\n", r"bad\.g2o:1: VERTEX_SE3:QUAT: quaternion has norm 0"),
    ("VERTEX_SE2 0 0 0 0\nEDGE_SE2 0 0 1 0 0 1 0 0 1 0 1\n", r"bad\.g2o:2: edge connects pose 0 to itself"),
    ("VERTEX_SE2 0 0 0 0\nBR 0 1 0 1 0 0.1\n", r"bad\.g2o:2: BR: bearing and range sigmas must be positive"),
]


@pytest.mark.parametrize("text,message", BAD_FILES)
def test_malformed_files_name_the_line(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        est.read_graph(_write(tmp_path, "bad.g2o", text))


def test_unknown_vertex_ids_name_the_line(tmp_path):
    text = "VERTEX_SE2 0 0 0 0\nVERTEX_SE2 1 0 0 0\nEDGE_SE2 0 1 1 0 0 1 0 0 1 0 1\nEDGE_SE2 1 5 1 0 0 1 0 0 1 0 1\n"
    with pytest.raises(KeyError, match=r"bad\.g2o:4: refers to pose 5, which no vertex line defines"):
        est.read_g2o(_write(tmp_path, "bad.g2o", text))
    with pytest.raises(KeyError, match=r"bad\.g2o:2: refers to pose 3"):
        est.read_g2o(_write(tmp_path, "bad.g2o", "VERTEX_SE2 0 0 0 0\nFIX 3\n"))
    # Unknown tags can be skipped on request.
    d = est.read_g2o(_write(tmp_path, "ok.g2o", "VERTEX_SE2 0 0 0 0\nFOO 1\n"), ignore_unknown=True)
    assert len(d.pose_ids) == 1


def test_bad_factors_name_the_factor():
    g = est.FactorGraph()
    a = g.add_variable(mp.SE2.Identity())
    b = g.add_variable(mp.SE2.Identity())
    l = g.add_variable(mp.R2(np.zeros(2)))
    with pytest.raises(ValueError, match=r"factor 0 \(between SE2\): information matrix is not positive definite"):
        g.add_between(a, b, mp.SE2.Identity(), np.diag([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match=r"factor 0 \(between SE2\): information matrix is not symmetric"):
        g.add_between(a, b, mp.SE2.Identity(), np.array([[1.0, 0.5, 0], [0, 1, 0], [0, 0, 1]]))
    with pytest.raises(ValueError, match=r"factor 0 \(between SE2\): information matrix contains NaN"):
        g.add_between(a, b, mp.SE2.Identity(), np.diag([1.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match=r"factor 0 \(point SE2\): measurement contains NaN"):
        g.add_point(a, l, [np.nan, 0.0])
    with pytest.raises(ValueError, match=r"measurement 0 \(SE2\): value contains NaN"):
        g.add_between(a, b, np.array([np.nan, 0, 1, 0]))
    with pytest.raises(IndexError, match=r"factor 0 \(between SE2\): unknown variable key 7"):
        g.add_between(a, 7, mp.SE2.Identity())
    with pytest.raises(ValueError, match=r"factor 0 \(between SE2\): variable 2 is R2, expected SE2"):
        g.add_between(a, l, mp.SE2.Identity())
    with pytest.raises(ValueError, match=r"the same variable appears twice"):
        g.add_between(a, a, mp.SE2.Identity())
    with pytest.raises(ValueError, match="row 1 of the batch: factor 1 .*not positive definite"):
        g.add_betweens([a, a], [b, b], [mp.SE2.Identity()] * 2, np.stack([np.eye(3), -np.eye(3)]))
    assert g.num_factors == 0  # failed batches add nothing
    with pytest.raises(ValueError, match=r"variable 3 \(R2\): value contains NaN"):
        g.add_variables(mp.R2, np.array([[np.nan, 0.0]]))
    with pytest.raises(TypeError, match="SE23Tangent"):  # every group is a variable kind; tangents are not
        g.add_variable(mp.SE23Tangent(np.zeros(9)))
    with pytest.raises(ValueError, match="robust"):
        g.solve(robust="tukey")


def test_unanchored_graph_is_a_clear_error():
    g = est.FactorGraph()
    keys = g.add_variables(mp.SE2, [mp.SE2.Identity()] * 3)
    g.add_betweens(keys[:-1], keys[1:], [mp.SE2.from_xytheta(1, 0, 0)] * 2)
    for method in ("lm", "gn"):
        with pytest.raises(RuntimeError, match="not anchored .*gauge"):
            g.solve(method=method)
    with pytest.raises(RuntimeError, match="not anchored"):
        g.marginal_covariance(0)
    lonely = g.add_variable(mp.SE2.Identity())
    g.add_prior(keys[0], mp.SE2.Identity())
    with pytest.raises(RuntimeError, match=f"x{lonely} .*appears in no factor"):
        g.solve()
    g.add_prior(lonely, mp.SE2.Identity())
    assert g.solve().converged


def test_numerically_singular_system_names_the_variable():
    # A 2D landmark seen only through a range (a custom 1-D factor): its bearing is free.
    g = est.FactorGraph()
    x = g.add_variable(mp.SE2.Identity())
    l = g.add_variable(mp.R2(np.array([3.0, 0.0])))
    g.add_prior(x, mp.SE2.Identity())

    def rng_only(X, L):
        d = L.coeffs() - X.translation()
        r = np.linalg.norm(d)
        return np.array([r - 2.0]), [np.zeros((1, 3)), (d / r)[None, :]]

    g.add_factor([x, l], rng_only, 1)
    with pytest.raises(RuntimeError, match=r"singular system in Gauss-Newton: .*x1 \(R2\)"):
        g.solve(method="gn")
    with pytest.raises(RuntimeError, match=r"singular system while computing covariances: .*x1 \(R2\)"):
        g.marginal_covariance(l)


def test_nan_during_solve_is_reported():
    g = est.FactorGraph()
    x = g.add_variable(mp.SE2.Identity())
    l = g.add_variable(mp.R2(np.zeros(2)))  # landmark exactly at the pose: bearing undefined
    g.add_prior(x, mp.SE2.Identity())
    g.add_prior(l, mp.R2(np.zeros(2)))
    g.add_range_bearing(x, l, 0.0, 1.0)
    with pytest.raises(RuntimeError, match=r"factor 2 \(range-bearing SE2 on x0 \(SE2\), x1 \(R2\)\): .*NaN"):
        g.solve()


# ----------------------------------------------------------------------------- Kalman filter and covariances


def test_local_global_covariance_round_trip_and_monte_carlo():
    rng = RNG(9)
    X = mp.SE3.Random()
    A = rng.normal(size=(6, 6))
    P = 1e-4 * (A @ A.T + np.eye(6))
    Pg = est.local_to_global(X, P)
    np.testing.assert_allclose(est.global_to_local(X, Pg), P, atol=1e-15)
    # X Exp(xi) == Exp(Adj xi) X: global samples have covariance Pg.
    u = est.Uncertain(X, P)
    samples = u.sample(4000, rng)
    eta = np.array([S.compose(X.inverse()).Log().coeffs() for S in samples])
    np.testing.assert_allclose(np.cov(eta.T), Pg, atol=0.08 * np.abs(Pg).max())  # sampling error
    Y = est.Uncertain(mp.SE3.Random(), 1e-4 * np.eye(6))
    Z = u.compose(Y)
    zs = [a.compose(b) for a, b in zip(samples, Y.sample(4000, rng))]
    xi = np.array([s.rminus(Z.mean).coeffs() for s in zs])
    np.testing.assert_allclose(np.cov(xi.T), Z.cov, atol=0.08 * np.abs(Z.cov).max())


def test_ekf_se2_landmark_localization_tracks_the_truth():
    rng = RNG(10)
    landmarks = np.array([[5.0, 0.0], [0.0, 5.0], [-5.0, 0.0], [0.0, -5.0]])
    X_true = mp.SE2.from_xytheta(0.0, -3.0, 0.0)
    P0 = np.diag([0.1, 0.1, 0.02])
    ekf = est.ErrorStateKalmanFilter(noisy(X_true, 0.1, rng), P0)
    u = np.array([0.1, 0.0, 0.033])
    Q = np.diag([1e-4, 1e-4, 1e-5])
    R = np.diag([0.01, 0.01])
    nees = []
    for _ in range(200):
        X_true = X_true.rplus(tangent(mp.SE2, u + rng.multivariate_normal(np.zeros(3), Q)))
        ekf.predict(u, Q)
        for p in landmarks:
            z = X_true.inverse().act(p) + rng.multivariate_normal(np.zeros(2), R)

            def h(X, p=p):
                Xi, J_inv = X.inverse(jacobians=True)
                q, J_q_xi, _ = Xi.act(p, jacobians=True)
                return q, J_q_xi @ J_inv

            ekf.update(z, h, R)
        e = X_true.rminus(ekf.X).coeffs()
        nees.append(e @ np.linalg.solve(ekf.P, e))
    assert np.abs(X_true.rminus(ekf.X).coeffs()).max() < 0.05
    assert np.mean(nees[20:]) < 3 * 3  # consistent: E[NEES] = dof = 3


def test_ekf_se3_group_measurement_and_predict_covariance():
    rng = RNG(11)
    X = mp.SE3.Random()
    ekf = est.ErrorStateKalmanFilter(X, 1e-2 * np.eye(6))
    u = np.array([0.1, 0, 0, 0, 0, 0.1])
    ekf.predict(u, np.zeros((6, 6)))
    # Noise-free prediction transports the covariance by Adj(Exp(u))^-1.
    A = mp.SE3Tangent(u).Exp().inverse().Adj()
    np.testing.assert_allclose(ekf.P, A @ (1e-2 * np.eye(6)) @ A.T, atol=1e-14)
    # A direct, precise pose measurement pulls the estimate onto it and shrinks P.
    truth = ekf.X.rplus(tangent(mp.SE3, rng.normal(0, 0.05, 6)))
    ekf.update_group(truth, lambda Y: (Y, np.eye(6)), 1e-8 * np.eye(6))
    assert truth.rminus(ekf.X).norm() < 1e-3
    assert np.trace(ekf.P) < 1e-6


# ----------------------------------------------------------------------------- examples

EXAMPLES = ["ekf_se2_landmarks.py", "ekf_se3_landmarks.py", "sam_se2.py", "sam_se3.py", "pose_graph_dataset.py"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_run(name):
    import os
    import subprocess
    import sys

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", name)
    out = subprocess.run([sys.executable, path], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
