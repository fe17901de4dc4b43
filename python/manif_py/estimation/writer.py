"""Writer for g2o files: the inverse of :func:`read_g2o` on what it writes.

2D: VERTEX_SE2 / EDGE_SE2, VERTEX_XY / EDGE_SE2_XY, FIX. 3D: VERTEX_SE3:QUAT /
EDGE_SE3:QUAT, VERTEX_TRACKXYZ / EDGE_SE3_TRACKXYZ (with an identity
PARAMS_SE3OFFSET 0), FIX. Information matrices are written as their upper
triangle, row-major, in the (translation, rotation) order g2o and manif_py share.
Numbers are written with 17 significant digits, so a write / read round trip
reproduces the data to rounding (angles go through atan2 / cos / sin).
Range-bearing observations have no g2o tag and are refused.
"""

import os

import numpy as np

from .dataset import PoseGraphData


def _block(tag, ids, values):
    """Lines 'tag id... v...' for integer ids (k, a) and floats (k, b)."""
    if len(ids) == 0:
        return []
    idf = " ".join(["{}"] * ids.shape[1])
    fmt = tag + " " + idf + " " + " ".join(["{:.17g}"] * values.shape[1])
    return [fmt.format(*i, *v) for i, v in zip(ids.tolist(), values.tolist())]


def _triu(info):
    n = info.shape[-1]
    iu = np.triu_indices(n)
    return info[:, iu[0], iu[1]]


def write_g2o(path, data):
    """Writes a :class:`PoseGraphData` (e.g. ``data.with_estimate(result.values)``) to `path`."""
    if not isinstance(data, PoseGraphData):
        raise TypeError("write_g2o: argument 'data' must be a PoseGraphData "
                        "(see read_g2o / PoseGraphData.with_estimate)")
    if len(data.range_bearing_edges):
        raise ValueError("write_g2o: range-bearing (BR) observations have no g2o representation")
    lines = []
    if not data.is_3d:
        theta = np.arctan2(data.poses[:, 3], data.poses[:, 2])
        lines += _block("VERTEX_SE2", data.pose_ids[:, None], np.column_stack([data.poses[:, :2], theta]))
        lines += _block("VERTEX_XY", data.landmark_ids[:, None], data.landmarks)
        m = data.measurements
        lines += _block("EDGE_SE2", data.edges,
                        np.column_stack([m[:, :2], np.arctan2(m[:, 3], m[:, 2]), _triu(data.information)]))
        lines += _block("EDGE_SE2_XY", data.point_edges, np.column_stack([data.points, _triu(data.point_information)]))
    else:
        lines += _block("VERTEX_SE3:QUAT", data.pose_ids[:, None], data.poses)
        lines += _block("VERTEX_TRACKXYZ", data.landmark_ids[:, None], data.landmarks)
        lines += _block("EDGE_SE3:QUAT", data.edges, np.column_stack([data.measurements, _triu(data.information)]))
        if len(data.point_edges):
            lines.append("PARAMS_SE3OFFSET 0 0 0 0 0 0 0 1")
            ids = np.column_stack([data.point_edges, np.zeros(len(data.point_edges), dtype=np.int64)])
            lines += _block("EDGE_SE3_TRACKXYZ", ids, np.column_stack([data.points, _triu(data.point_information)]))
    lines += ["FIX {}".format(int(i)) for i in data.fixed_ids]
    with open(os.fspath(path), "w") as f:
        f.write("\n".join(lines) + "\n")
