"""Point-cloud and mesh writers: .ply, .pcd (ascii, binary, binary_compressed), .xyz,
.obj, .off, .stl, for our own outputs and for the readers' round-trip tests.

Every writer checks its arrays first (ValueError / TypeError naming the argument and
its expected shape) and writes nothing on bad input."""

from __future__ import annotations

import struct

import numpy as np

from .cloud import as_points, check_mesh
from .lzf import lzf_compress
from .readers import _STL_RECORD

def write_ply(path, points, normals=None, colors=None, faces=None, binary: bool = True, byte_order: str = "<", dtype=np.float64):
    """Write points (N, 3) with optional normals (N, 3), colours (N, 3) in [0, 1] (stored
    as uint8) and triangle faces (F, 3) to a PLY file: binary (byte_order '<' or '>')
    or ascii (binary=False).  Coordinates are stored as `dtype` (float64 or float32)."""
    from plyfile import PlyData, PlyElement

    pts = as_points(points, "points")
    if byte_order not in ("<", ">"):
        raise ValueError(f"'byte_order' must be '<' or '>', got {byte_order!r}")
    ft = np.dtype(dtype).str[1:]
    if ft not in ("f8", "f4"):
        raise ValueError(f"'dtype' must be float64 or float32, got {dtype!r}")
    fields = [("x", ft), ("y", ft), ("z", ft)]
    if normals is not None:
        normals = as_points(normals, "normals", n=len(pts))
        fields += [("nx", ft), ("ny", ft), ("nz", ft)]
    if colors is not None:
        colors = as_points(colors, "colors", n=len(pts))
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
    vert = np.empty(len(pts), dtype=fields)
    for i, k in enumerate("xyz"):
        vert[k] = pts[:, i]
    if normals is not None:
        for i, k in enumerate(("nx", "ny", "nz")):
            vert[k] = normals[:, i]
    if colors is not None:
        c8 = np.clip(np.round(colors * 255.0), 0, 255).astype(np.uint8)
        for i, k in enumerate(("red", "green", "blue")):
            vert[k] = c8[:, i]
    elements = [PlyElement.describe(vert, "vertex")]
    if faces is not None:
        _, f = check_mesh(pts, faces)
        fe = np.empty(len(f), dtype=[("vertex_indices", "i4", (3,))])
        fe["vertex_indices"] = f
        elements.append(PlyElement.describe(fe, "face"))
    PlyData(elements, text=not binary, byte_order=byte_order if binary else "=").write(str(path))


def write_pcd(path, points, normals=None, colors=None, data: str = "binary", dtype=np.float64):
    """Write a PCD v0.7 file: points (N, 3), optional normals (N, 3) and colours (N, 3)
    in [0, 1] (packed 'rgb' U4); data 'ascii', 'binary' or 'binary_compressed' (LZF)."""
    pts = as_points(points, "points")
    if data not in ("ascii", "binary", "binary_compressed"):
        raise ValueError(f"'data' must be 'ascii', 'binary' or 'binary_compressed', got {data!r}")
    ft = np.dtype(dtype)
    if ft not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"'dtype' must be float64 or float32, got {dtype!r}")
    names, arrays = ["x", "y", "z"], [pts[:, 0], pts[:, 1], pts[:, 2]]
    if normals is not None:
        nrm = as_points(normals, "normals", n=len(pts))
        names += ["normal_x", "normal_y", "normal_z"]
        arrays += [nrm[:, 0], nrm[:, 1], nrm[:, 2]]
    arrays = [a.astype(ft) for a in arrays]
    if colors is not None:
        c8 = np.clip(np.round(as_points(colors, "colors", n=len(pts)) * 255.0), 0, 255).astype(np.uint32)
        names.append("rgb")
        arrays.append((c8[:, 0] << 16) | (c8[:, 1] << 8) | c8[:, 2])
    sizes = [a.dtype.itemsize for a in arrays]
    types = ["U" if a.dtype == np.uint32 else "F" for a in arrays]
    head = (
        "# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\n"
        f"FIELDS {' '.join(names)}\nSIZE {' '.join(map(str, sizes))}\nTYPE {' '.join(types)}\n"
        f"COUNT {' '.join('1' for _ in names)}\nWIDTH {len(pts)}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\n"
        f"POINTS {len(pts)}\nDATA {data}\n"
    )
    with open(path, "wb") as fh:
        fh.write(head.encode("ascii"))
        if data == "ascii":
            lines = [" ".join(repr(float(v)) if t == "F" else str(int(v)) for v, t in zip(row, types)) for row in zip(*arrays)]
            fh.write(("\n".join(lines) + "\n").encode("ascii"))
        elif data == "binary":
            rec = np.empty(len(pts), dtype=[(n, a.dtype.newbyteorder("<")) for n, a in zip(names, arrays)])
            for n, a in zip(names, arrays):
                rec[n] = a
            fh.write(rec.tobytes())
        else:
            raw = b"".join(a.astype(a.dtype.newbyteorder("<")).tobytes() for a in arrays)
            comp = lzf_compress(raw)
            fh.write(struct.pack("<II", len(comp), len(raw)) + comp)


def write_xyz(path, points, normals=None, delimiter: str = " "):
    """Write 'x y z [nx ny nz]' rows (17 significant digits) to a text file."""
    pts = as_points(points, "points")
    table = pts if normals is None else np.hstack([pts, as_points(normals, "normals", n=len(pts))])
    np.savetxt(path, table, fmt="%.17g", delimiter=delimiter)


def write_obj(path, vertices, faces=None, normals=None):
    """Write vertices (V, 3), optional per-vertex normals (V, 3) and triangles (F, 3)
    (written 'f a//a b//b c//c' when normals are given)."""
    v = as_points(vertices, "vertices")
    lines = [f"v {x!r} {y!r} {z!r}" for x, y, z in v.tolist()]
    if normals is not None:
        lines += [f"vn {x!r} {y!r} {z!r}" for x, y, z in as_points(normals, "normals", n=len(v)).tolist()]
    if faces is not None:
        _, f = check_mesh(v, faces)
        fmt = "f {0}//{0} {1}//{1} {2}//{2}" if normals is not None else "f {0} {1} {2}"
        lines += [fmt.format(a + 1, b + 1, c + 1) for a, b, c in f.tolist()]
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")


def write_off(path, vertices, faces):
    """Write vertices (V, 3) and triangles (F, 3) as OFF."""
    v, f = check_mesh(vertices, faces)
    lines = ["OFF", f"{len(v)} {len(f)} 0"]
    lines += [f"{x!r} {y!r} {z!r}" for x, y, z in v.tolist()]
    lines += [f"3 {a} {b} {c}" for a, b, c in f.tolist()]
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")


def write_stl(path, vertices, faces, binary: bool = True):
    """Write triangles (F, 3) over vertices (V, 3) as STL (binary float32, or ascii)."""
    v, f = check_mesh(vertices, faces)
    tri = v[f]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-300)
    if binary:
        rec = np.zeros(len(f), dtype=_STL_RECORD)
        rec["normal"], rec["v"] = n, tri
        with open(path, "wb") as fh:
            fh.write(b"manif_py binary STL".ljust(80, b" ") + struct.pack("<I", len(f)) + rec.tobytes())
        return
    out = ["solid manif_py"]
    for nn, t in zip(n.tolist(), tri.tolist()):
        out.append(f"  facet normal {nn[0]!r} {nn[1]!r} {nn[2]!r}\n    outer loop")
        out += [f"      vertex {x!r} {y!r} {z!r}" for x, y, z in t]
        out.append("    endloop\n  endfacet")
    out.append("endsolid manif_py")
    with open(path, "w") as fh:
        fh.write("\n".join(out) + "\n")
