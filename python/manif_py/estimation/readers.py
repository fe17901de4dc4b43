"""Readers for g2o and TORO pose-graph files.

Supported lines (one parser; a file may mix g2o and TORO tags of one dimension):

  2D  VERTEX_SE2 / VERTEX2 id x y theta
      EDGE_SE2 i j dx dy dtheta I11 I12 I13 I22 I23 I33      (g2o: upper triangle, row-major)
      EDGE2 i j dx dy dtheta <6 information numbers>           (TORO order inf_ff inf_fs inf_ss
                                                               inf_rr inf_fr inf_sr, or g2o order;
                                                               see `edge2_order`)
      VERTEX_XY id x y;  EDGE_SE2_XY / LANDMARK2 i l x y I11 I12 I22   (landmark in the pose frame)
      BR i l bearing range bearing_sigma range_sigma
  3D  VERTEX_SE3:QUAT id x y z qx qy qz qw
      EDGE_SE3:QUAT i j x y z qx qy qz qw <21 numbers: upper triangle of the 6x6 information>
      VERTEX3 id x y z roll pitch yaw;  EDGE3 i j x y z roll pitch yaw [<21 numbers>]  (TORO 3D;
                                                               no information means identity)
      VERTEX_TRACKXYZ id x y z;  PARAMS_SE3OFFSET id x y z qx qy qz qw (identity only)
      EDGE_SE3_TRACKXYZ i l param x y z I11 I12 I13 I22 I23 I33
  both  FIX id;  EQUIV i j (TORO, recorded only);  empty lines and lines starting with '#'.

Information ordering. g2o stores information in the order of its tangent,
translation then rotation, which is also ours, (rho, theta): no permutation.
GTSAM's Pose3 puts rotation first, so its readers swap the 3x3 blocks (and the
off-diagonal blocks with them). TORO EDGE3 lines follow the (x y z roll pitch
yaw) order of their parameters, also translation first; GTSAM's load3D reads
them without the swap, i.e. as rotation first (`edge3_order="gtsam"` mimics it).
Rotations of EDGE3 / VERTEX3 are R = Rz(yaw) Ry(pitch) Rx(roll).

Files without pose vertices (sphere2500.txt, w20000.txt) get initial values
by composing the edges in file order (an unseen first id starts at the identity),
as GTSAM does. Landmarks without a vertex line start at their first observation.
Every malformed line raises ValueError("path:line: ..."); an edge to an undefined
pose (when the file defines poses) raises KeyError naming the line.
"""

import os
import warnings

import numpy as np

from .. import _core
from ._ids import parse_ids
from .dataset import PoseGraphData

# tag -> (dimension, number of integer ids, number of floats)
_SPEC = {
    "VERTEX_SE2": (2, 1, 3), "VERTEX2": (2, 1, 3), "VERTEX_XY": (2, 1, 2),
    "EDGE_SE2": (2, 2, 9), "EDGE2": (2, 2, 9), "EDGE_SE2_XY": (2, 2, 5), "LANDMARK2": (2, 2, 5),
    "BR": (2, 2, 4),
    "VERTEX_SE3:QUAT": (3, 1, 7), "VERTEX3": (3, 1, 6), "VERTEX_TRACKXYZ": (3, 1, 3),
    "EDGE_SE3:QUAT": (3, 2, 28), "EDGE3": (3, 2, 27), "EDGE_SE3_TRACKXYZ": (3, 3, 9),
    "PARAMS_SE3OFFSET": (3, 1, 7),
    "FIX": (0, 1, 0), "EQUIV": (0, 2, 0),
}
_IDENTITY6 = " " + " ".join("1" if i == j else "0" for i in range(6) for j in range(i, 6))
_POSE_VERTEX = {2: ("VERTEX_SE2", "VERTEX2"), 3: ("VERTEX_SE3:QUAT", "VERTEX3")}


class _Rows:
    """The lines of one tag: integer ids (n, k), floats (n, m), line numbers (n,)."""

    def __init__(self, path, tag, texts, lines):
        _, n_ids, n_floats = _SPEC[tag]
        self.tag, self.lines = tag, np.asarray(lines, dtype=np.int64)
        where = f"{path}:{{}}: {tag}"
        # ids are exact integers (never through float64: 64-bit keys would collide), the rest floats
        parts = [t.split(None, n_ids) for t in texts]
        id_tokens = [tok for p in parts for tok in p[:n_ids]]
        self.ids = parse_ids(id_tokens, lambda k: where.format(lines[k // n_ids])).reshape(len(lines), n_ids)
        rest = [p[n_ids] if len(p) > n_ids else "" for p in parts]
        raw = _parse_floats(" ".join(rest), len(lines) * n_floats)
        if raw is None:  # some token is not a number: find it, line by line
            for text, line in zip(rest, lines):
                for t in text.split():
                    try:
                        float(t)
                    except ValueError:
                        raise ValueError(f"{where.format(line)}: cannot read {t!r} as a number") from None
            raise ValueError(f"{path}: {tag}: could not parse the numbers")
        self.x = raw.reshape(len(lines), n_floats)
        bad = ~np.isfinite(self.x).all(1)
        if bad.any():
            raise ValueError(f"{where.format(lines[int(np.argmax(bad))])}: NaN or inf in the values")
        self.where = where

    def __len__(self):
        return len(self.lines)

    def fail(self, row, msg, exc=ValueError):
        raise exc(f"{self.where.format(int(self.lines[row]))}: {msg}")


def _parse_floats(text, count):
    """The `count` whitespace-separated numbers of `text` as float64, parsed at C speed;
    None if some token is not a number."""
    if count == 0:
        return np.zeros(0) if not text.strip() else None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns (rather than raises) when it stops early
        try:
            out = np.fromstring(text, dtype=np.float64, sep=" ")
        except (ValueError, DeprecationWarning):
            return None
    return out if out.size == count else None


def _text_lines(path):
    """The lines of text file `path`; ValueError naming it for a binary (NUL bytes) or non-UTF-8 file."""
    with open(path, "rb") as f:
        data = f.read()
    if b"\0" in data:
        raise ValueError(f"{path}: is a binary file (NUL bytes), not a g2o/TORO text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ValueError(f"{path}:{line}: not UTF-8 text (byte {data[exc.start]:#04x}); "
                         "not a g2o/TORO text file") from None
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # as open()'s universal newlines


def _tokenize(path, ignore_unknown):
    """Per tag, a _Rows of its lines. Checks every line's count of values."""
    heads = [line.split(None, 1) for line in _text_lines(path)]
    buckets = {}
    for number, head in enumerate(heads, start=1):
        if head and head[0][0] != "#":
            buckets.setdefault(head[0], []).append(number)
    rows = {}
    for tag, lines in buckets.items():
        spec = _SPEC.get(tag)
        if spec is None:
            if ignore_unknown:
                continue
            raise ValueError(f"{path}:{lines[0]}: unknown tag {tag!r} (pass ignore_unknown=True to skip such lines)")
        expected = spec[1] + spec[2]
        texts = [heads[n - 1][1] if len(heads[n - 1]) > 1 else "" for n in lines]
        counts = [len(t.split()) for t in texts]
        if tag == "EDGE3":  # TORO 3D allows omitting the information (then: identity)
            texts = [t.rstrip() + _IDENTITY6 if c == 8 else t for t, c in zip(texts, counts)]
            counts = [expected if c == 8 else c for c in counts]
        for n, c in zip(lines, counts):
            if c != expected:
                raise ValueError(f"{path}:{n}: {tag} expects {expected} numbers after the tag, got {c}")
        rows[tag] = _Rows(path, tag, texts, lines)
    return rows


def _upper(values, n):
    """Symmetric (k, n, n) from the row-major upper triangles (k, n (n + 1) / 2)."""
    out = np.zeros((len(values), n, n))
    iu = np.triu_indices(n)
    out[:, iu[0], iu[1]] = values
    out[:, iu[1], iu[0]] = values
    return out


def _check_information(rows, info):
    """Symmetric positive definite, else ValueError naming the first bad line."""
    if len(info) == 0:
        return
    eig = np.linalg.eigvalsh(info)
    scale = np.abs(info).reshape(len(info), -1).max(1)
    bad = ~(eig[:, 0] > 1e-14 * scale)
    if bad.any():
        row = int(np.argmax(bad))
        rows.fail(row, f"information matrix is not positive definite (smallest eigenvalue {eig[row, 0]:.6g})")


def _quat_from_rpy(rpy):
    """Quaternions (k, 4) as (x, y, z, w) of R = Rz(yaw) Ry(pitch) Rx(roll); rpy (k, 3)."""
    h = 0.5 * np.asarray(rpy)
    cr, sr = np.cos(h[:, 0]), np.sin(h[:, 0])
    cp, sp = np.cos(h[:, 1]), np.sin(h[:, 1])
    cy, sy = np.cos(h[:, 2]), np.sin(h[:, 2])
    return np.stack([
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
        cr * cp * cy + sr * sp * sy,
    ], axis=1)


def _unit_quats(rows, q):
    """Normalised quaternions; rows whose norm is far from 1 are errors."""
    n = np.linalg.norm(q, axis=1)
    bad = ~(np.abs(n - 1.0) <= 1e-3)
    if bad.any():
        row = int(np.argmax(bad))
        rows.fail(row, f"quaternion has norm {n[row]:.6g}, expected 1")
    return q / n[:, None]


def _se2_rows(xyt):
    return np.stack([xyt[:, 0], xyt[:, 1], np.cos(xyt[:, 2]), np.sin(xyt[:, 2])], axis=1)


def _edge2_information(rows, order):
    """(k, 3, 3) from the 6 numbers of EDGE2 lines."""
    v = rows.x[:, 3:9]
    if order == "auto":
        # Decided once per file from the first line: TORO needs v0, v2, v3 > 0 on its
        # diagonal, g2o v0, v3, v5 (w100.graph: "1 0 1 1 0 0" is TORO; w20000.txt:
        # "3.16 0 0 3.16 0 5" is g2o).
        first = v[0]
        order = "toro" if (first[[0, 2, 3]] > 0).all() else "g2o"
    if order == "toro":
        m = np.empty((len(v), 3, 3))
        m[:, 0, 0], m[:, 0, 1], m[:, 1, 1], m[:, 2, 2], m[:, 0, 2], m[:, 1, 2] = v.T
        m[:, 1, 0], m[:, 2, 0], m[:, 2, 1] = m[:, 0, 1], m[:, 0, 2], m[:, 1, 2]
        return m
    if order == "g2o":
        return _upper(v, 3)
    raise ValueError(f"edge2_order must be 'auto', 'toro' or 'g2o', got {order!r}")


def _swap_blocks(info):
    """(rotation, translation) order <-> (translation, rotation) order for (k, 6, 6)."""
    p = np.array([3, 4, 5, 0, 1, 2])
    return info[:, p][:, :, p]


def read_graph(path, edge2_order="auto", edge3_order="toro", ignore_unknown=False):
    """Reads a g2o or TORO file (2D or 3D) into a :class:`PoseGraphData`.

    edge2_order: information order of EDGE2 lines, "auto" (per file, see module doc),
    "toro" or "g2o". edge3_order: "toro" (translation first, as the format defines)
    or "gtsam" (rotation first, as gtsam.load3D / readG2o read EDGE3 lines).
    ignore_unknown: skip lines with unknown tags instead of raising.
    """
    path = os.fspath(path)
    rows = _tokenize(path, ignore_unknown)
    dims = {_SPEC[t][0] for t in rows} - {0}
    if len(dims) > 1:
        two = next(t for t in rows if _SPEC[t][0] == 2)
        three = next(t for t in rows if _SPEC[t][0] == 3)
        raise ValueError(f"{path}: mixes 2D ({two}) and 3D ({three}) lines")
    dim = dims.pop() if dims else 2
    group = _core.SE2 if dim == 2 else _core.SE3

    # ---- pose vertices -------------------------------------------------------
    ids, poses, lines = [], [], []
    for tag in _POSE_VERTEX[dim]:
        r = rows.get(tag)
        if r is None:
            continue
        if tag == "VERTEX_SE2" or tag == "VERTEX2":
            rep = _se2_rows(r.x)
        elif tag == "VERTEX_SE3:QUAT":
            rep = np.concatenate([r.x[:, :3], _unit_quats(r, r.x[:, 3:7])], axis=1)
        else:  # VERTEX3
            rep = np.concatenate([r.x[:, :3], _quat_from_rpy(r.x[:, 3:6])], axis=1)
        ids.append(r.ids[:, 0])
        poses.append(rep)
        lines.append(r.lines)
    rep_size = 4 if dim == 2 else 7
    pose_ids = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    poses = np.concatenate(poses) if poses else np.zeros((0, rep_size))
    vertex_lines = np.concatenate(lines) if lines else np.zeros(0, dtype=np.int64)
    order = np.argsort(vertex_lines, kind="stable")
    pose_ids, poses, vertex_lines = pose_ids[order], poses[order], vertex_lines[order]
    _check_unique(path, pose_ids, vertex_lines, "pose")

    # ---- pose edges ----------------------------------------------------------
    e_ids, e_meas, e_info, e_lines, e_rows = [], [], [], [], []
    if dim == 2:
        for tag in ("EDGE_SE2", "EDGE2"):
            r = rows.get(tag)
            if r is None:
                continue
            info = _upper(r.x[:, 3:9], 3) if tag == "EDGE_SE2" else _edge2_information(r, edge2_order)
            _check_information(r, info)
            e_ids.append(r.ids)
            e_meas.append(_se2_rows(r.x[:, :3]))
            e_info.append(info)
            e_lines.append(r.lines)
            e_rows.append(r)
    else:
        for tag in ("EDGE_SE3:QUAT", "EDGE3"):
            r = rows.get(tag)
            if r is None:
                continue
            if tag == "EDGE_SE3:QUAT":
                meas = np.concatenate([r.x[:, :3], _unit_quats(r, r.x[:, 3:7])], axis=1)
                info = _upper(r.x[:, 7:28], 6)
            else:
                meas = np.concatenate([r.x[:, :3], _quat_from_rpy(r.x[:, 3:6])], axis=1)
                info = _upper(r.x[:, 6:27], 6)
                if edge3_order == "gtsam":
                    info = _swap_blocks(info)
                elif edge3_order != "toro":
                    raise ValueError(f"edge3_order must be 'toro' or 'gtsam', got {edge3_order!r}")
            _check_information(r, info)
            e_ids.append(r.ids)
            e_meas.append(meas)
            e_info.append(info)
            e_lines.append(r.lines)
            e_rows.append(r)
    dof = 3 if dim == 2 else 6
    edges = np.concatenate(e_ids) if e_ids else np.zeros((0, 2), dtype=np.int64)
    meas = np.concatenate(e_meas) if e_meas else np.zeros((0, rep_size))
    info = np.concatenate(e_info) if e_info else np.zeros((0, dof, dof))
    edge_lines = np.concatenate(e_lines) if e_lines else np.zeros(0, dtype=np.int64)
    order = np.argsort(edge_lines, kind="stable")
    edges, meas, info, edge_lines = edges[order], meas[order], info[order], edge_lines[order]
    self_loops = edges[:, 0] == edges[:, 1]
    if self_loops.any():
        line = int(edge_lines[np.argmax(self_loops)])
        raise ValueError(f"{path}:{line}: edge connects pose {int(edges[np.argmax(self_loops), 0])} to itself")

    if len(pose_ids):
        _check_known(path, pose_ids, edges.reshape(-1), np.repeat(edge_lines, 2), "pose")
    elif len(edges):
        pose_ids, poses = _chain(group, edges, meas)
    else:
        raise ValueError(f"{path}: has no pose vertex or edge lines (an empty or comment-only file?)")

    # ---- landmarks -------------------------------------------------------------
    lm_ids, lm_pos, lm_lines = np.zeros(0, dtype=np.int64), np.zeros((0, dim)), np.zeros(0, dtype=np.int64)
    vtag = "VERTEX_XY" if dim == 2 else "VERTEX_TRACKXYZ"
    if vtag in rows:
        lm_ids, lm_pos, lm_lines = rows[vtag].ids[:, 0], rows[vtag].x, rows[vtag].lines
        _check_unique(path, lm_ids, lm_lines, "landmark")
    p_edges, p_meas, p_info, p_lines = [], [], [], []
    for tag in (("EDGE_SE2_XY", "LANDMARK2") if dim == 2 else ("EDGE_SE3_TRACKXYZ",)):
        r = rows.get(tag)
        if r is None:
            continue
        if dim == 2:
            z, inf = r.x[:, :2], _upper(r.x[:, 2:5], 2)
        else:
            _check_offsets(path, rows.get("PARAMS_SE3OFFSET"), r)
            z, inf = r.x[:, :3], _upper(r.x[:, 3:9], 3)
        _check_information(r, inf)
        p_edges.append(r.ids[:, :2])
        p_meas.append(z)
        p_info.append(inf)
        p_lines.append(r.lines)
    point_edges = np.concatenate(p_edges) if p_edges else np.zeros((0, 2), dtype=np.int64)
    points = np.concatenate(p_meas) if p_meas else np.zeros((0, dim))
    point_info = np.concatenate(p_info) if p_info else np.zeros((0, dim, dim))
    point_lines = np.concatenate(p_lines) if p_lines else np.zeros(0, dtype=np.int64)

    rb = rows.get("BR")
    if rb is not None:
        sig = rb.x[:, 2:4]
        bad = ~(sig > 0).all(1)
        if bad.any():
            rb.fail(int(np.argmax(bad)), "bearing and range sigmas must be positive")
        rb_edges, rb_meas, rb_lines = rb.ids, rb.x[:, :2], rb.lines
        rb_info = np.zeros((len(rb), 2, 2))
        rb_info[:, 0, 0], rb_info[:, 1, 1] = sig[:, 0] ** -2, sig[:, 1] ** -2
    else:
        rb_edges, rb_meas = np.zeros((0, 2), dtype=np.int64), np.zeros((0, 2))
        rb_info, rb_lines = np.zeros((0, 2, 2)), np.zeros(0, dtype=np.int64)

    obs_pose = np.concatenate([point_edges[:, 0], rb_edges[:, 0]])
    obs_lines = np.concatenate([point_lines, rb_lines])
    if len(obs_pose):
        _check_known(path, pose_ids, obs_pose, obs_lines, "pose")
    lm_ids, lm_pos = _init_landmarks(group, pose_ids, poses, lm_ids, lm_pos, point_edges, points,
                                     point_lines, rb_edges, rb_meas, rb_lines)

    fixed = rows["FIX"].ids[:, 0] if "FIX" in rows else np.zeros(0, dtype=np.int64)
    if len(fixed):
        _check_known(path, pose_ids, fixed, rows["FIX"].lines, "pose")
    equiv = rows["EQUIV"].ids if "EQUIV" in rows else np.zeros((0, 2), dtype=np.int64)

    return PoseGraphData(
        group=group, pose_ids=pose_ids, poses=poses, edges=edges, measurements=meas, information=info,
        edge_lines=edge_lines, landmark_ids=lm_ids, landmarks=lm_pos, point_edges=point_edges, points=points,
        point_information=point_info, point_lines=point_lines, range_bearing_edges=rb_edges,
        range_bearings=rb_meas, range_bearing_information=rb_info, range_bearing_lines=rb_lines,
        fixed_ids=fixed, equivalences=equiv, path=path,
    )


def read_g2o(path, ignore_unknown=False):
    """Reads a g2o file (VERTEX_SE2 / EDGE_SE2, VERTEX_SE3:QUAT / EDGE_SE3:QUAT, landmarks, FIX).
    See :func:`read_graph` for all options and the module docstring for conventions."""
    return read_graph(path, ignore_unknown=ignore_unknown)


def read_toro(path, edge2_order="auto", edge3_order="toro", ignore_unknown=False):
    """Reads a TORO file (VERTEX2 / EDGE2, VERTEX3 / EDGE3, EQUIV). See :func:`read_graph`."""
    return read_graph(path, edge2_order=edge2_order, edge3_order=edge3_order, ignore_unknown=ignore_unknown)


def _check_unique(path, ids, lines, what):
    if len(ids) == 0:
        return
    order = np.argsort(ids, kind="stable")
    dup = np.flatnonzero(ids[order][1:] == ids[order][:-1])
    if len(dup):
        second = order[dup[0] + 1]
        raise ValueError(f"{path}:{int(lines[second])}: {what} id {int(ids[second])} is defined twice "
                         f"(first on line {int(lines[order[dup[0]]])})")


def _check_known(path, known, ids, lines, what):
    """KeyError naming the line of the first id not in `known`."""
    found = np.isin(ids, known)
    if not found.all():
        i = int(np.argmin(found))
        raise KeyError(f"{path}:{int(lines[i])}: refers to {what} {int(ids[i])}, which no vertex line defines")


def _check_offsets(path, params, rows):
    """EDGE_SE3_TRACKXYZ sensor offsets must exist and be the identity."""
    known = {}
    if params is not None:
        for pid, x, line in zip(params.ids[:, 0], params.x, params.lines):
            known[int(pid)] = (x, int(line))
    for row, pid in enumerate(rows.ids[:, 2]):
        if int(pid) not in known:
            rows.fail(row, f"refers to PARAMS_SE3OFFSET {int(pid)}, which is not defined", KeyError)
        x, line = known[int(pid)]
        q = x[3:7] / np.linalg.norm(x[3:7])
        if np.abs(x[:3]).max() > 0 or abs(abs(q[3]) - 1.0) > 1e-12:
            rows.fail(row, f"sensor offset {int(pid)} (line {line}) is not the identity; "
                           "only identity offsets are supported")


def _chain(group, edges, meas):
    """Initial poses composed along the edges, in file order (no vertex lines)."""
    known = {}
    for (i, j), z in zip(edges, meas):
        i, j = int(i), int(j)
        if i not in known and j not in known:
            known[i] = group.Identity()
        if i in known and j not in known:
            known[j] = known[i].compose(group(z))
        elif j in known and i not in known:
            known[i] = known[j].compose(group(z).inverse())
    ids = np.array(sorted(known), dtype=np.int64)
    rows = np.array([known[int(k)].coeffs() for k in ids]).reshape(len(ids), -1)
    return ids, rows


def _init_landmarks(group, pose_ids, poses, lm_ids, lm_pos, point_edges, points, point_lines,
                    rb_edges, rb_meas, rb_lines):
    """Adds landmarks seen but not defined, placed at their first observation."""
    obs_lm = np.concatenate([point_edges[:, 1], rb_edges[:, 1]])
    if len(obs_lm) == 0:
        return lm_ids, lm_pos
    lines = np.concatenate([point_lines, rb_lines])
    first = {}
    for row in np.argsort(lines, kind="stable"):
        lm = int(obs_lm[row])
        if lm not in first:
            first[lm] = row
    missing = [lm for lm in first if lm not in set(lm_ids.tolist())]
    if not missing:
        return lm_ids, lm_pos
    pose_index = {int(p): k for k, p in enumerate(pose_ids)}
    n_point = len(point_edges)
    new = []
    for lm in missing:
        row = first[lm]
        if row < n_point:
            pose, local = point_edges[row, 0], points[row]
        else:
            r = row - n_point
            pose = rb_edges[r, 0]
            b, rng = rb_meas[r]
            local = np.array([rng * np.cos(b), rng * np.sin(b)])
        new.append(group(poses[pose_index[int(pose)]]).act(local))
    lm_ids = np.concatenate([lm_ids, np.array(missing, dtype=np.int64)])
    lm_pos = np.concatenate([lm_pos, np.array(new)])
    return lm_ids, lm_pos
