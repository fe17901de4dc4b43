"""Factor graphs over Lie group variables and their nonlinear least-squares solution.

The math: find the variables X_k minimising

    sum_f rho_f( r_f(X)^T Omega_f r_f(X) )

where r_f is a factor's residual in a tangent space, Omega_f its information
matrix and rho_f an optional robust loss. Steps are taken in the local (right)
tangent space of every variable, X_k <- X_k (+) dx_k = X_k Exp(dx_k), with the
analytic right Jacobians of the core. Built-in factors are evaluated and the
sparse normal equations assembled and factorised in C++ (manif_py._estimation);
only custom factors call back into Python.

    g = FactorGraph()
    x0 = g.add_variable(SE2.Identity())
    x1 = g.add_variable(SE2.Identity())
    g.add_prior(x0, SE2.Identity(), information=1e4)
    g.add_between(x0, x1, Z, information=np.diag([100, 100, 400]))
    result = g.solve(method="lm")
    result.values[x1], result.final_chi2
"""

from dataclasses import dataclass, field

import numpy as np

from .. import _estimation
from .._integers import as_int
from ._args import (
    GROUP_OF_KIND, KIND_NAMES, as_rows, dof_of_kind, information_matrix, keys_array, kind_of_group,
    loss_spec, rep_of_kind,
)

_METHODS = {"lm": 1, "levenberg-marquardt": 1, "gn": 0, "gauss-newton": 0}


class Values:
    """A snapshot of a graph's estimate: ``values[key]`` is a group element,
    ``values.array(keys)`` the storage rows (N, rep) of same-group variables."""

    def __init__(self, kinds, offsets, data):
        self._kinds = kinds  # (V,) kind id per key
        self._offsets = offsets  # (V,) start of each variable's storage in `data`
        self._data = data

    def __len__(self):
        return len(self._kinds)

    def __getitem__(self, key):
        key = as_int(key, "key", "Values")
        if not -len(self) <= key < len(self):
            raise IndexError(f"Values: key {key} out of range ({len(self)} variables)")
        kind = int(self._kinds[key])
        start = self._offsets[key]
        return GROUP_OF_KIND[kind](self._data[start:start + rep_of_kind(kind)])

    def __iter__(self):
        return (self[k] for k in range(len(self)))

    def array(self, keys=None):
        """Storage rows (N, rep) of `keys` (all variables by default), which must share a group."""
        keys = np.arange(len(self)) if keys is None else keys_array(keys, "Values.array", "keys")
        if len(keys) == 0:
            return np.zeros((0, 0))
        kinds = np.unique(self._kinds[keys])
        if len(kinds) > 1:
            raise ValueError("Values.array: keys mix groups " + ", ".join(KIND_NAMES[k] for k in kinds))
        rep = rep_of_kind(int(kinds[0]))
        return self._data[self._offsets[keys][:, None] + np.arange(rep)]


@dataclass
class SolveResult:
    """What :meth:`FactorGraph.solve` returns.

    chi2 = sum_f r_f^T Omega_f r_f (no robust loss); cost = sum_f rho_f(.) is the
    objective actually minimised (equal to chi2 without robust losses).
    ``covariances`` maps each requested key to its marginal covariance
    (dof, dof) in the right tangent space at the solution.
    """

    values: Values
    initial_chi2: float
    final_chi2: float
    initial_cost: float
    final_cost: float
    iterations: int
    converged: bool
    status: str
    method: str
    factorizations: int
    seconds: float
    covariances: dict = field(default_factory=dict)
    log: list = field(default_factory=list, repr=False)

    def __repr__(self):
        return (
            f"SolveResult(method={self.method!r}, converged={self.converged}, iterations={self.iterations}, "
            f"chi2 {self.initial_chi2:.6g} -> {self.final_chi2:.6g}, status={self.status!r}, "
            f"seconds={self.seconds:.3g})"
        )


class FactorGraph:
    """A factor graph over variables of the groups SO2, SE2, SO3, SE3, R1..R6, SE23, SGal3, Sim3.

    Variables are identified by integer keys 0, 1, 2, ... in the order they are
    added. Every ``add_*`` call validates its input (known keys of the right
    group, finite measurements, symmetric positive definite information) and
    raises an error naming the factor; batch versions (``add_betweens`` ...)
    add all rows or none and name the offending row.

    ``solve`` starts from the current estimate and writes the solution back, so
    that a graph can be extended and re-solved incrementally; ``copy()`` keeps
    a pristine version.
    """

    def __init__(self):
        self._g = _estimation.Graph()

    # ---- variables ---------------------------------------------------------
    @property
    def num_variables(self):
        return self._g.num_variables

    @property
    def num_factors(self):
        return self._g.num_factors

    def add_variable(self, value):
        """Adds one variable with initial value `value` (a group element); returns its key."""
        return int(self.add_variables(type(value), [value])[0])

    def add_variables(self, group, values):
        """Adds N variables of one `group` (class) from elements or storage rows (N, rep); returns keys (N,)."""
        kind = kind_of_group(group, "add_variables")
        rows = as_rows(values, kind, "add_variables", "values")
        keys = self._g.add_variables(kind, rows)
        return keys

    def group_of(self, key):
        """The group class of variable `key`."""
        return GROUP_OF_KIND[self._g.kind(as_int(key, "key", "group_of"))]

    def value(self, key):
        """Current estimate of variable `key` (a group element)."""
        key = as_int(key, "key", "value")
        kind = self._g.kind(key)
        return GROUP_OF_KIND[kind](self._g.get_values(np.array([key]))[0])

    def array(self, keys):
        """Current estimates of same-group variables as storage rows (N, rep)."""
        return self._g.get_values(keys_array(keys, "array", "keys"))

    def values(self):
        """A :class:`Values` snapshot of the whole estimate."""
        return Values(*self._g.snapshot())

    def set_value(self, key, value):
        """Overwrites the estimate of variable `key` with a group element of its group."""
        key = as_int(key, "key", "set_value")
        kind = self._g.kind(key)
        self._g.set_values(np.array([key]), as_rows([value], kind, "set_value", "value"))

    def set_values(self, keys, values):
        """Overwrites same-group variables from elements or storage rows (N, rep)."""
        keys = keys_array(keys, "set_values", "keys")
        if len(keys):
            self._g.set_values(keys, as_rows(values, self._g.kind(int(keys[0])), "set_values", "values"))

    def fix(self, key, fixed=True):
        """Holds variable `key` constant (it anchors its component like a hard prior)."""
        self._g.set_fixed(as_int(key, "key", "fix"), bool(fixed))

    def is_fixed(self, key):
        return self._g.is_fixed(as_int(key, "key", "is_fixed"))

    # ---- factors -------------------------------------------------------------
    def _loss_id(self, robust, fn):
        if robust is None:
            return 0
        t, k = loss_spec(robust, fn)
        return self._g.add_loss(t, k)

    def _first_kind(self, keys, fn):
        if len(keys) == 0:
            raise ValueError(f"{fn}: no keys given")
        return self._g.kind(int(keys[0]))

    def add_prior(self, key, prior, information=None, robust=None):
        """Prior X_key ~ prior: r = Log(prior^-1 X) (dof,). Returns the factor id."""
        return int(self.add_priors([key], [prior], information, robust)[0])

    def add_priors(self, keys, priors, information=None, robust=None):
        """Priors on N same-group variables. priors: elements or rows (N, rep);
        information: see :func:`information_matrix` forms, or (N, dof, dof). Returns ids (N,)."""
        keys = keys_array(keys, "add_priors", "keys")
        kind = self._first_kind(keys, "add_priors")
        rows = as_rows(priors, kind, "add_priors", "priors")
        info = information_matrix(information, dof_of_kind(kind), "add_priors", len(keys))
        first = self._g.add_priors(kind, keys, rows, info, self._loss_id(robust, "add_priors"))
        return np.arange(first, first + len(keys))

    def add_between(self, key_i, key_j, measured, information=None, robust=None):
        """Relative measurement Z ~ X_i^-1 X_j: r = Log(Z^-1 X_i^-1 X_j) (dof,). Returns the factor id."""
        return int(self.add_betweens([key_i], [key_j], [measured], information, robust)[0])

    def add_betweens(self, keys_i, keys_j, measured, information=None, robust=None):
        """N between factors of one group. measured: elements or rows (N, rep);
        information: (dof, dof) shared or (N, dof, dof). Returns ids (N,)."""
        keys_i = keys_array(keys_i, "add_betweens", "keys_i")
        keys_j = keys_array(keys_j, "add_betweens", "keys_j")
        kind = self._first_kind(keys_i, "add_betweens")
        rows = as_rows(measured, kind, "add_betweens", "measured")
        info = information_matrix(information, dof_of_kind(kind), "add_betweens", len(keys_i))
        first = self._g.add_betweens(kind, keys_i, keys_j, rows, info, self._loss_id(robust, "add_betweens"))
        return np.arange(first, first + len(keys_i))

    def add_point(self, pose, landmark, measured, information=None, robust=None):
        """Landmark position measured in the frame of a pose: r = X^-1 l - z, shape (dim,).
        pose: an SE2 (landmark R2) or SE3 (landmark R3) variable. Returns the factor id."""
        return int(self.add_points([pose], [landmark], np.atleast_2d(measured), information, robust)[0])

    def add_points(self, poses, landmarks, measured, information=None, robust=None):
        """N point observations; measured (N, dim); information (dim, dim) or (N, dim, dim)."""
        poses = keys_array(poses, "add_points", "poses")
        landmarks = keys_array(landmarks, "add_points", "landmarks")
        kind = self._first_kind(poses, "add_points")
        if KIND_NAMES[kind] not in ("SE2", "SE3"):
            raise TypeError(f"add_points: poses must be SE2 or SE3 variables, got {KIND_NAMES[kind]}")
        dim = 2 if KIND_NAMES[kind] == "SE2" else 3
        z = np.ascontiguousarray(np.asarray(measured, dtype=np.float64).reshape(len(poses), -1))
        info = information_matrix(information, dim, "add_points", len(poses))
        first = self._g.add_points(kind, poses, landmarks, z, info, self._loss_id(robust, "add_points"))
        return np.arange(first, first + len(poses))

    def add_range_bearing(self, pose, landmark, bearing, range_, information=None, robust=None):
        """Bearing (rad) and range of an R2 landmark seen from an SE2 pose, in the pose frame:
        r = (wrap(atan2(p_y, p_x) - bearing), |p| - range), p = X^-1 l. information: (2, 2) in
        (bearing, range) order. Returns the factor id."""
        return int(self.add_range_bearings([pose], [landmark], [[bearing, range_]], information, robust)[0])

    def add_range_bearings(self, poses, landmarks, measured, information=None, robust=None):
        """N range-bearing factors; measured (N, 2) as (bearing, range)."""
        poses = keys_array(poses, "add_range_bearings", "poses")
        landmarks = keys_array(landmarks, "add_range_bearings", "landmarks")
        z = np.ascontiguousarray(np.asarray(measured, dtype=np.float64).reshape(len(poses), 2))
        info = information_matrix(information, 2, "add_range_bearings", len(poses))
        first = self._g.add_range_bearings(poses, landmarks, z, info, self._loss_id(robust, "add_range_bearings"))
        return np.arange(first, first + len(poses))

    def add_imu_factor(self, state_i, bias_i, state_j, preintegrated, gravity=(0.0, 0.0, -9.81), robust=None):
        """Preintegrated IMU factor on SE23 states X_i, X_j and the R6 bias b_i = (b_a, b_g) of X_i:
        r = Log(DX(b_i)^-1 Phi_T(X_i)^-1 Gamma_T^-1 X_j) (9,), information = covariance^-1
        (see :mod:`manif_py.estimation.imu`). Returns the factor id."""
        p = preintegrated
        g = np.asarray(gravity, dtype=np.float64)
        if g.shape != (3,) or not np.all(np.isfinite(g)):
            raise ValueError(f"add_imu_factor: argument 'gravity' must be a finite (3,) vector, got {gravity!r}")
        try:
            info = np.linalg.inv(np.linalg.cholesky(p.covariance))
            info = info.T @ info
        except np.linalg.LinAlgError:
            raise ValueError("add_imu_factor: the preintegrated covariance is not positive definite") from None
        first = self._g.add_imu_factors(
            keys_array([state_i], "add_imu_factor", "state_i"), keys_array([bias_i], "add_imu_factor", "bias_i"),
            keys_array([state_j], "add_imu_factor", "state_j"), p.delta.coeffs()[None, :],
            np.ascontiguousarray(p.bias_jacobian[None]), p.bias[None, :], np.array([p.duration]), g,
            0.5 * (info + info.T), self._loss_id(robust, "add_imu_factor"))
        return int(first)

    def jacobians(self, factor_id):
        """Whitened Jacobian blocks U dr/dx_k (dim, dof_k) of one factor, in key order."""
        return self._g.jacobians(as_int(factor_id, "factor_id", "jacobians"))

    def add_factor(self, keys, fn, dim, information=None, robust=None):
        """A custom factor evaluated in Python at every iteration.

        fn(*values) receives the current group elements of `keys` and returns
        ``(residual, jacobians)``: residual of shape (dim,) and one right Jacobian
        d r / d tau_k of shape (dim, dof_k) per key (X_k (+) tau_k, tau_k -> 0).
        The residual is whitened by `information` (dim, dim) and accumulated in
        C++ like the built-in factors. Returns the factor id.
        """
        keys = [int(k) for k in keys_array(keys, "add_factor", "keys")]
        if not callable(fn):
            raise TypeError("add_factor: argument 'fn' must be callable")
        if not isinstance(dim, (int, np.integer)) or dim <= 0:
            raise ValueError(f"add_factor: argument 'dim' must be a positive integer, got {dim!r}")
        classes = [GROUP_OF_KIND[self._g.kind(k)] for k in keys]
        fid = self._g.num_factors
        info = information_matrix(information, int(dim), "add_factor")

        def call(reps, want_jacobians):
            out = fn(*[cls(r) for cls, r in zip(classes, reps)])
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise TypeError(f"custom factor {fid}: fn must return (residual, [jacobian per variable])")
            residual, jacobians = out
            residual = np.asarray(residual, dtype=np.float64).reshape(-1)
            if not want_jacobians:
                return residual, []
            if len(jacobians) != len(keys):
                raise ValueError(f"custom factor {fid}: fn returned {len(jacobians)} Jacobians "
                                 f"for {len(keys)} variables")
            return residual, [np.atleast_2d(np.asarray(j, dtype=np.float64)) for j in jacobians]

        return int(self._g.add_custom(keys, int(dim), call, info, self._loss_id(robust, "add_factor")))

    def describe_factor(self, factor_id):
        """A readable description: type, id and variables."""
        return self._g.describe_factor(as_int(factor_id, "factor_id", "describe_factor"))

    def residual(self, factor_id):
        """Whitened residual U r of one factor (U^T U = information), shape (dim,)."""
        return self._g.residual(as_int(factor_id, "factor_id", "residual"))

    # ---- evaluation and solving ------------------------------------------------
    def chi2(self, robust=None):
        """sum_f r_f^T Omega_f r_f at the current estimate (with `robust`: the robust cost)."""
        chi2, cost = self._g.cost(*loss_spec(robust, "chi2"))
        return cost if robust is not None else chi2

    def check(self):
        """Raises if a variable is in no factor or a connected component is unanchored."""
        self._g.check()

    def solve(self, method="lm", max_iterations=100, robust=None, covariances=None,
              relative_tolerance=1e-6, absolute_tolerance=0.0, gradient_tolerance=1e-12,
              lambda_initial=1e-5, damping="identity", verbose=False):
        """Minimises the (robust) cost from the current estimate and stores the solution.

        method: "lm" (Levenberg-Marquardt) or "gn" (Gauss-Newton). LM damps H + lambda D with
        D = I (damping="identity", GTSAM's default) or D = diag(H) ("marquardt", scale invariant);
        lambda starts at lambda_initial, is divided by 10 after an accepted step and multiplied
        by 10 after a rejected one.
        robust: None, "huber", "cauchy", ("huber", k) or ("cauchy", k), k in sigmas of the
        whitened residual; applies to every factor added without its own loss.
        covariances: None, "all", or keys whose marginal covariances (dof, dof) to return.
        Converged when an accepted step lowers the cost by less than relative_tolerance
        (relative), the cost is <= absolute_tolerance or max|gradient| <= gradient_tolerance.
        Raises RuntimeError for singular systems (e.g. no prior: gauge freedom) and for
        residuals that become NaN; the estimate then stays at the last accepted step.
        """
        key = str(method).lower()
        if key not in _METHODS:
            raise ValueError(f"solve: unknown method {method!r} (use 'lm' or 'gn')")
        if not isinstance(max_iterations, (int, np.integer)) or max_iterations < 0:
            raise ValueError(f"solve: max_iterations must be a non-negative integer, got {max_iterations!r}")
        loss = loss_spec(robust, "solve")
        if damping not in ("identity", "marquardt"):
            raise ValueError(f"solve: damping must be 'identity' or 'marquardt', got {damping!r}")
        s = self._g.solve(_METHODS[key], int(max_iterations), float(relative_tolerance),
                          float(absolute_tolerance), float(gradient_tolerance), float(lambda_initial), *loss,
                          damping == "marquardt")
        if verbose:
            print(f"initial chi2 {s['initial_chi2']:.10g}")
            for it, cost, lam, attempts in s["log"]:
                print(f"iter {it:3d}  cost {cost:.10g}  lambda {lam:.3g}  factorizations {attempts}")
            print(s["status"])
        covs = {}
        if covariances is not None:
            keys = range(self.num_variables) if isinstance(covariances, str) and covariances == "all" else covariances
            keys = [int(k) for k in keys_array(list(keys), "solve", "covariances")]
            covs = dict(zip(keys, self._g.marginal_covariances(keys, *loss)))
        return SolveResult(
            values=self.values(), initial_chi2=s["initial_chi2"], final_chi2=s["final_chi2"],
            initial_cost=s["initial_cost"], final_cost=s["final_cost"], iterations=s["iterations"],
            converged=s["converged"], status=s["status"], method="lm" if _METHODS[key] else "gn",
            factorizations=s["factorizations"], seconds=s["seconds_total"], covariances=covs, log=s["log"],
        )

    def marginal_covariance(self, key, robust=None):
        """Marginal covariance (dof, dof) of variable `key` at the current estimate, in its
        right tangent space: X = X_hat Exp(xi), xi ~ N(0, Sigma)."""
        return self._g.marginal_covariances([as_int(key, "key", "marginal_covariance")], *loss_spec(robust, "marginal_covariance"))[0]

    def marginal_covariances(self, keys, robust=None):
        """Marginal covariances of several variables (one factorisation): list of (dof_k, dof_k)."""
        keys = [int(k) for k in keys_array(keys, "marginal_covariances", "keys")]
        return self._g.marginal_covariances(keys, *loss_spec(robust, "marginal_covariances"))

    def joint_covariance(self, keys, robust=None):
        """Joint covariance of `keys`, tangent coordinates stacked in key order: (sum dof, sum dof)."""
        keys = [int(k) for k in keys_array(keys, "joint_covariance", "keys")]
        return self._g.joint_covariance(keys, *loss_spec(robust, "joint_covariance"))

    def copy(self):
        """An independent copy (custom factor callables are shared)."""
        out = FactorGraph.__new__(FactorGraph)
        out._g = self._g.copy()
        return out

    def __repr__(self):
        return f"FactorGraph({self.num_variables} variables, {self.num_factors} factors)"
