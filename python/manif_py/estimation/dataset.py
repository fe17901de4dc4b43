"""A pose graph (with optional landmarks) as plain arrays, and its factor graph.

Conventions: ids are the file's vertex ids; an edge (i, j) with measurement Z
means Z ~ X_i^-1 X_j; information matrices are in the order of our tangent
spaces, (rho, theta) = translation first (which is also g2o's order; GTSAM's
Pose3 puts rotation first). Landmark ids live in their own namespace.
"""

from dataclasses import dataclass, field, replace

import numpy as np

from .. import _core
from .graph import FactorGraph


def _empty(*shape):
    return np.zeros((0,) + shape)


@dataclass
class PoseGraphData:
    """Arrays of a pose-graph file, in file order.

    group: SE2 or SE3 (class). pose_ids (N,), poses (N, rep) initial estimates.
    edges (M, 2) pose ids, measurements (M, rep), information (M, dof, dof), edge_lines (M,).
    landmark_ids (L,), landmarks (L, dim) initial estimates (dim 2 for SE2, 3 for SE3).
    point_edges (K, 2) (pose id, landmark id), points (K, dim) landmark in the pose frame,
    point_information (K, dim, dim), point_lines (K,).
    range_bearing_edges (B, 2), range_bearings (B, 2) as (bearing, range),
    range_bearing_information (B, 2, 2), range_bearing_lines (B,)  (SE2 only).
    fixed_ids: pose ids held constant (g2o FIX). equivalences (E, 2): TORO EQUIV pairs,
    recorded but not turned into factors (GTSAM ignores them too).
    """

    group: type
    pose_ids: np.ndarray
    poses: np.ndarray
    edges: np.ndarray
    measurements: np.ndarray
    information: np.ndarray
    edge_lines: np.ndarray
    landmark_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    landmarks: np.ndarray = field(default_factory=lambda: _empty(2))
    point_edges: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    points: np.ndarray = field(default_factory=lambda: _empty(2))
    point_information: np.ndarray = field(default_factory=lambda: _empty(2, 2))
    point_lines: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    range_bearing_edges: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    range_bearings: np.ndarray = field(default_factory=lambda: _empty(2))
    range_bearing_information: np.ndarray = field(default_factory=lambda: _empty(2, 2))
    range_bearing_lines: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    fixed_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    equivalences: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    path: str = ""

    @property
    def is_3d(self):
        return self.group is _core.SE3

    def __repr__(self):
        parts = [f"{len(self.pose_ids)} {self.group.__name__} poses", f"{len(self.edges)} edges"]
        if len(self.landmark_ids):
            parts.append(f"{len(self.landmark_ids)} landmarks")
        if len(self.point_edges):
            parts.append(f"{len(self.point_edges)} point observations")
        if len(self.range_bearing_edges):
            parts.append(f"{len(self.range_bearing_edges)} range-bearing observations")
        return f"PoseGraphData({', '.join(parts)}{', ' + repr(self.path) if self.path else ''})"

    def pose_keys(self, ids):
        """Graph keys of pose ids (as numbered by :meth:`to_graph`): poses take keys 0..N-1 in file order."""
        return _lookup(self.pose_ids, ids, "pose")

    def landmark_keys(self, ids):
        """Graph keys of landmark ids: N..N+L-1 in the order of ``landmark_ids``."""
        return len(self.pose_ids) + _lookup(self.landmark_ids, ids, "landmark")

    def to_graph(self, prior="first", prior_information=1e6, robust=None):
        """The factor graph of this data set.

        prior: "first" adds a prior at the initial value of the first pose (file order),
        an id adds it on that pose, None adds none (then the graph needs FIX lines or
        your own prior). prior_information: scalar, (dof,) or (dof, dof).
        Returns the graph; pose i of the file has key i, landmark j key N + j.
        """
        g = FactorGraph()
        g.add_variables(self.group, self.poses)
        if len(self.landmark_ids):
            g.add_variables(_core.R2 if self.group is _core.SE2 else _core.R3, self.landmarks)
        if len(self.edges):
            g.add_betweens(self.pose_keys(self.edges[:, 0]), self.pose_keys(self.edges[:, 1]),
                           self.measurements, self.information, robust)
        if len(self.point_edges):
            g.add_points(self.pose_keys(self.point_edges[:, 0]), self.landmark_keys(self.point_edges[:, 1]),
                         self.points, self.point_information, robust)
        if len(self.range_bearing_edges):
            g.add_range_bearings(self.pose_keys(self.range_bearing_edges[:, 0]),
                                 self.landmark_keys(self.range_bearing_edges[:, 1]),
                                 self.range_bearings, self.range_bearing_information, robust)
        for k in self.pose_keys(self.fixed_ids):
            g.fix(k)
        if prior is not None and len(self.pose_ids):
            key = 0 if isinstance(prior, str) and prior == "first" else int(self.pose_keys([prior])[0])
            g.add_prior(key, self.group(self.poses[key]), prior_information)
        return g

    def with_estimate(self, values):
        """A copy whose poses / landmarks are replaced by an estimate (a graph's
        :class:`Values`, keys numbered as by :meth:`to_graph`), e.g. to write it out."""
        n, l = len(self.pose_ids), len(self.landmark_ids)
        poses = values.array(np.arange(n))
        landmarks = values.array(np.arange(n, n + l)) if l else self.landmarks
        return replace(self, poses=poses, landmarks=landmarks)


def _lookup(table, ids, what):
    """Positions of `ids` in the id array `table`; KeyError naming the first unknown id."""
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    if len(ids) == 0:
        return ids
    order = np.argsort(table, kind="stable")
    pos = np.searchsorted(table[order], ids)
    pos = np.minimum(pos, len(table) - 1)
    found = table[order][pos] == ids if len(table) else np.zeros(len(ids), dtype=bool)
    if not found.all():
        raise KeyError(f"unknown {what} id {int(ids[np.argmin(found)])}")
    return order[pos]
