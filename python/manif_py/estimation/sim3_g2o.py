"""Sim(3) pose graphs in a g2o-style text format (monocular SLAM: poses with a scale).

    VERTEX_SIM3:QUAT id tx ty tz qx qy qz qw s
    EDGE_SIM3:QUAT i j tx ty tz qx qy qz qw s I11 I12 ... I77      (28 numbers: the upper
                                                                  triangle of the 7x7 information, row-major)
    FIX id

Elements map p -> s R p + t (manif_py's Sim3 storage); an edge measures X_i^-1 X_j. The information is
in manif_py's Sim3 tangent order (rho, theta, sigma): translation, rotation, log-scale. The layout
follows g2o's EDGE_SE3:QUAT with the scale appended. g2o's own VERTEX_SIM3:EXPMAP / EDGE_SIM3 (as
ORB-SLAM writes them) store log coordinates of the inverse pose in another order; they are not read.
"""

import numpy as np

import manif_py as mp

from ._ids import parse_id
from .graph import FactorGraph

_VERTEX, _EDGE = "VERTEX_SIM3:QUAT", "EDGE_SIM3:QUAT"
_IU = np.triu_indices(7)


def _int_id(tok, path, line):
    return parse_id(tok, f"{path}:{line}")  # exact: 64-bit ids never pass through float64


def read_sim3_g2o(path):
    """Reads a Sim(3) g2o-style file into a :class:`FactorGraph`.

    Returns (graph, ids): ids[key] is the file's vertex id of variable `key`. FIX lines fix
    vertices; a file without FIX gets its first vertex fixed (a pose graph's gauge)."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            lines = f.read().splitlines()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file") from None
    vertices, edges, fixed = {}, [], []
    for n, raw in enumerate(lines, 1):
        tok = raw.split("#", 1)[0].split()
        if not tok:
            continue
        tag, rest = tok[0], tok[1:]
        try:
            if tag == _VERTEX:
                if len(rest) != 9:
                    raise ValueError(f"{path}:{n}: {_VERTEX} needs 9 fields, got {len(rest)}")
                vid = _int_id(rest[0], path, n)
                if vid in vertices:
                    raise ValueError(f"{path}:{n}: vertex {vid} defined twice")
                vertices[vid] = np.array(rest[1:], dtype=np.float64)
            elif tag == _EDGE:
                if len(rest) != 2 + 8 + 28:
                    raise ValueError(f"{path}:{n}: {_EDGE} needs 38 fields, got {len(rest)}")
                i, j = _int_id(rest[0], path, n), _int_id(rest[1], path, n)
                vals = np.array(rest[2:], dtype=np.float64)
                info = np.zeros((7, 7))
                info[_IU] = vals[8:]
                info = info + np.triu(info, 1).T
                edges.append((n, i, j, vals[:8], info))
            elif tag == "FIX":
                fixed += [(n, _int_id(t, path, n)) for t in rest]
            else:
                raise ValueError(f"{path}:{n}: unknown tag {tag!r} (expected {_VERTEX}, {_EDGE} or FIX)")
        except ValueError as e:
            if str(e).startswith(str(path)):
                raise
            raise ValueError(f"{path}:{n}: {e}") from None
    if not vertices:
        raise ValueError(f"{path}: no {_VERTEX} lines")
    ids = sorted(vertices)
    key_of = {v: k for k, v in enumerate(ids)}
    g = FactorGraph()
    try:
        g.add_variables(mp.Sim3, np.stack([vertices[v] for v in ids]))
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    for n, i, j, z, info in edges:
        for v in (i, j):
            if v not in key_of:
                raise ValueError(f"{path}:{n}: edge refers to unknown vertex {v}")
        try:
            g.add_between(key_of[i], key_of[j], z, info)
        except ValueError as e:
            raise ValueError(f"{path}:{n}: {e}") from None
    for n, v in fixed or [(0, ids[0])]:
        if v not in key_of:
            raise ValueError(f"{path}:{n}: FIX of unknown vertex {v}")
        g.fix(key_of[v])
    return g, np.array(ids, dtype=np.int64)


def write_sim3_g2o(path, graph, edges, information, ids=None, fixed=()):
    """Writes the Sim3 variables of `graph` and `edges` [(key_i, key_j, Z)] with information
    (7, 7) shared or one per edge, in the format above. ids: file ids per key (default: keys)."""
    V = graph.num_variables
    ids = np.arange(V) if ids is None else np.asarray(ids, dtype=np.int64)
    info = np.asarray(information, dtype=np.float64)
    infos = np.broadcast_to(info, (len(edges), 7, 7)) if info.shape == (7, 7) else info
    if infos.shape != (len(edges), 7, 7):
        raise ValueError(f"write_sim3_g2o: argument 'information' must be (7, 7) or ({len(edges)}, 7, 7), "
                         f"got {info.shape}")
    fmt = lambda a: " ".join(repr(float(x)) for x in a)
    with open(path, "w", encoding="utf-8") as f:
        for k in range(V):
            if graph.group_of(k) is not mp.Sim3:
                raise TypeError(f"write_sim3_g2o: variable {k} is {graph.group_of(k).__name__}, expected Sim3")
            f.write(f"{_VERTEX} {ids[k]} {fmt(graph.value(k).coeffs())}\n")
        for (i, j, Z), I in zip(edges, infos):
            f.write(f"{_EDGE} {ids[i]} {ids[j]} {fmt(Z.coeffs())} {fmt(I[_IU])}\n")
        for k in fixed:
            f.write(f"FIX {ids[k]}\n")
