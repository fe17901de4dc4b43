"""Point-cloud and mesh files: readers for .ply, .pcd, .xyz/.xyzn/.txt, .obj, .off, .stl
(the writers are in writers.py, mesh sampling in sampling.py).

Readers raise FileNotFoundError for a missing file and ValueError, naming the file, for
an unknown extension, a truncated or corrupt file, a file without points and
non-finite coordinates or normals (``drop_invalid=True`` drops such points instead, as
organised depth-camera clouds need).  Colours come back as floats in [0, 1].

Format notes: PLY ascii / binary little / big endian (via plyfile); PCD ascii, binary
and binary_compressed (LZF, decoded here); text clouds are whitespace or comma separated
with 3 (xyz), 6 (xyz + normals, or xyz + 0-255 colours when columns 4-6 are not unit
vectors) or more columns (xyz, normals, colours); OBJ v / vn / f with v, v/vt, v//vn,
v/vt/vn corners and negative indices, polygons fan-triangulated; OFF / NOFF / COFF
(also ModelNet's glued 'OFF490 518 0' header); STL ascii and binary.
"""

from __future__ import annotations

import io as _stdio
import os
import re
import struct
from typing import Optional, Tuple

import numpy as np

from .._integers import as_int
from .cloud import PointCloud
from .lzf import MAX_RATIO, LZFError, lzf_decompress
from .sampling import resample, sample_mesh

CLOUD_EXTENSIONS = (".ply", ".pcd", ".xyz", ".xyzn", ".txt", ".pts", ".obj", ".off", ".stl")
MESH_EXTENSIONS = (".ply", ".obj", ".off", ".stl")


class _Corrupt(ValueError):
    """A parse failure; re-raised by the public readers with the file name."""


# ----------------------------------------------------------------------------- helpers


def _extension(path, allowed, what) -> str:
    ext = os.path.splitext(str(path))[1].lower()
    if ext not in allowed:
        raise ValueError(f"{path}: unknown {what} file extension {ext!r}; expected one of {allowed}")
    return ext


def _read_bytes(path) -> bytes:
    if not os.path.exists(path):
        raise FileNotFoundError(f"point-cloud file not found: {path}")
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a directory, not a point-cloud file")
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read: {exc}") from None


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _finish(path, points, normals=None, colors=None, drop_invalid=False, name=None) -> PointCloud:
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    normals = None if normals is None else np.asarray(normals, dtype=np.float64).reshape(-1, 3)
    colors = None if colors is None else np.asarray(colors, dtype=np.float64).reshape(-1, 3)
    valid = np.isfinite(points).all(1)
    if normals is not None:
        valid &= np.isfinite(normals).all(1)
    if not valid.all():
        if not drop_invalid:
            raise ValueError(
                f"{path}: {int((~valid).sum())} of {len(points)} points have NaN/inf coordinates or normals "
                "(drop them with drop_invalid=True, or --drop-invalid on the command line)"
            )
        points = points[valid]
        normals = None if normals is None else normals[valid]
        colors = None if colors is None else colors[valid]
    if len(points) == 0:
        raise ValueError(f"{path}: contains no points")
    if colors is not None:
        colors = np.clip(np.nan_to_num(colors), 0.0, 1.0)
    return PointCloud(points, normals, colors, name or os.path.basename(str(path)), dropped=int((~valid).sum()))


def _fan(polygons):
    """Triangles (i0, ik, ik+1) of index polygons (lists)."""
    tris = [(p[0], p[k], p[k + 1]) for p in polygons for k in range(1, len(p) - 1)]
    try:
        return np.array(tris, dtype=np.int64).reshape(-1, 3)
    except (OverflowError, ValueError, TypeError):
        raise _Corrupt("a face refers to a vertex index that is not an int64") from None


# -------------------------------------------------------------------------------- PLY


_PLY_SIZES = {"char": 1, "int8": 1, "uchar": 1, "uint8": 1, "short": 2, "int16": 2, "ushort": 2, "uint16": 2,
              "int": 4, "int32": 4, "uint": 4, "uint32": 4, "float": 4, "float32": 4, "double": 8, "float64": 8}


def _check_ply_sizes(data: bytes):
    """The element counts of a PLY header must fit in the bytes after it (plyfile allocates
    every element's array from its count before reading it)."""
    end = data.find(b"end_header")
    if not data.startswith(b"ply") or end < 0:
        raise _Corrupt("PLY file lacks its 'ply' magic or its end_header line")
    body_start = data.find(b"\n", end)
    available = len(data) - (body_start + 1 if body_start >= 0 else len(data))
    binary, elements = False, []
    for raw in _text(data[:end]).splitlines():
        words = raw.split()
        if not words:
            continue
        if words[0] == "format" and len(words) > 1:
            binary = words[1].startswith("binary")
        elif words[0] == "element" and len(words) >= 3:
            try:
                count = int(words[2])
            except ValueError:
                raise _Corrupt(f"PLY element {words[1]!r} has a count {words[2]!r} that is not an integer") from None
            if count < 0:
                raise _Corrupt(f"PLY element {words[1]!r} has a negative count {count}")
            elements.append([words[1], count, 0])
        elif words[0] == "property" and elements and len(words) >= 3:
            if words[1] == "list":  # at least the length field (lists may be empty)
                row = _PLY_SIZES.get(words[2], 1) if binary else 2
            else:  # one value: its size in binary, a character and a separator in ascii
                row = _PLY_SIZES.get(words[1], 1) if binary else 2
            elements[-1][2] += row
    least = sum(count * row for _, count, row in elements)
    if not binary and least:
        least -= 1  # the last value needs no separator
    if least > available:
        name, count, _ = max(elements, key=lambda e: e[1] * e[2])
        raise _Corrupt(f"PLY header declares {count} '{name}' elements (at least {least} bytes of data in all); "
                       f"the file has {available} after its header")


def _read_ply(path, data: bytes):
    from plyfile import PlyData

    _check_ply_sizes(data)
    try:
        ply = PlyData.read(_stdio.BytesIO(data))
    except Exception as exc:
        raise _Corrupt(f"unreadable PLY ({type(exc).__name__}: {exc})") from None
    names = [e.name for e in ply.elements]
    if "vertex" not in names:
        raise _Corrupt("PLY has no 'vertex' element")
    vert = ply["vertex"].data
    props = vert.dtype.names or ()
    if not all(k in props for k in "xyz"):
        raise _Corrupt(f"PLY vertex element lacks x, y, z properties (has {props})")
    pts = np.stack([vert[k].astype(np.float64) for k in "xyz"], 1)
    normals = colors = None
    for nk in (("nx", "ny", "nz"), ("normal_x", "normal_y", "normal_z")):
        if all(k in props for k in nk):
            normals = np.stack([vert[k].astype(np.float64) for k in nk], 1)
    for ck in (("red", "green", "blue"), ("r", "g", "b")):
        if all(k in props for k in ck):
            raw = np.stack([vert[k] for k in ck], 1)
            colors = raw.astype(np.float64) / (255.0 if np.issubdtype(raw.dtype, np.integer) else 1.0)
    faces = None
    if "face" in names:
        fd = ply["face"].data
        key = next((k for k in ("vertex_indices", "vertex_index") if k in (fd.dtype.names or ())), None)
        if key is None:
            raise _Corrupt("PLY face element lacks vertex_indices")
        faces = _fan([list(p) for p in fd[key]])
    return pts, normals, colors, faces


# -------------------------------------------------------------------------------- PCD

_PCD_TYPES = {("F", 4): "f4", ("F", 8): "f8", ("U", 1): "u1", ("U", 2): "u2", ("U", 4): "u4", ("U", 8): "u8",
              ("I", 1): "i1", ("I", 2): "i2", ("I", 4): "i4", ("I", 8): "i8"}


def _read_pcd(data: bytes):
    header, pos = {}, 0
    while True:
        end = data.find(b"\n", pos)
        if end < 0:
            raise _Corrupt("PCD header ends before its DATA line")
        line = _text(data[pos:end]).strip()
        pos = end + 1
        if not line or line.startswith("#"):
            continue
        key, _, rest = line.partition(" ")
        header[key.upper()] = rest.split()
        if key.upper() == "DATA":
            break
    try:
        fields = header["FIELDS"]
        sizes = [int(s) for s in header["SIZE"]]
        types = [t.upper() for t in header["TYPE"]]
        counts = [int(c) for c in header.get("COUNT", ["1"] * len(fields))]
        npts = int(header["POINTS"][0]) if "POINTS" in header else int(header["WIDTH"][0]) * int(header.get("HEIGHT", ["1"])[0])
        mode = header["DATA"][0].lower()
    except (KeyError, IndexError, ValueError) as exc:
        raise _Corrupt(f"PCD header is incomplete or malformed ({exc})") from None
    if not (len(fields) == len(sizes) == len(types) == len(counts)):
        raise _Corrupt("PCD header FIELDS, SIZE, TYPE and COUNT differ in length")
    if npts < 0 or min(counts, default=1) < 1:
        raise _Corrupt(f"PCD header declares {npts} points with COUNT {counts}: sizes must be positive")
    try:
        dtype = np.dtype([(f"{f}_{i}", "<" + _PCD_TYPES[(t, s)], (c,)) for i, (f, s, t, c) in enumerate(zip(fields, sizes, types, counts))])
    except KeyError as exc:
        raise _Corrupt(f"PCD header has an unsupported TYPE/SIZE {exc}") from None
    cols = {}
    _check_pcd_size(npts, dtype.itemsize, sum(counts), mode, len(data) - pos)
    if mode == "ascii":
        body = _text(data[pos:])
        try:
            table = np.loadtxt(_stdio.StringIO(body), dtype=np.float64, ndmin=2)
        except ValueError as exc:
            raise _Corrupt(f"PCD ascii data is malformed ({exc})") from None
        if table.shape != (npts, sum(counts)) and not (npts == 0 and table.size == 0):
            raise _Corrupt(f"PCD ascii data has shape {table.shape}, header says {npts} points of {sum(counts)} values")
        start = 0
        for f, t, s, c in zip(fields, types, sizes, counts):
            cols[f] = table[:, start : start + c]
            if f in ("rgb", "rgba"):  # packed colour written as a float or an int
                as_type = np.float32 if t == "F" else np.uint32
                cols[f] = table[:, start : start + 1].astype(as_type).view(np.uint32).astype(np.float64)
                cols[f + "_packed"] = True
            start += c
    elif mode == "binary":
        need = npts * dtype.itemsize
        if len(data) - pos < need:
            raise _Corrupt(f"PCD binary data is truncated ({len(data) - pos} bytes, need {need})")
        rec = np.frombuffer(data, dtype=dtype, count=npts, offset=pos)
        for i, f in enumerate(fields):
            cols[f] = rec[f"{f}_{i}"]
    elif mode == "binary_compressed":
        if len(data) - pos < 8:
            raise _Corrupt("PCD binary_compressed data is truncated (no size words)")
        csize, usize = struct.unpack("<II", data[pos : pos + 8])
        if len(data) - pos - 8 < csize:
            raise _Corrupt(f"PCD binary_compressed data is truncated ({len(data) - pos - 8} bytes, header says {csize})")
        if usize != npts * dtype.itemsize:  # checked before decoding: the size word allocates
            raise _Corrupt(f"PCD binary_compressed holds {usize} bytes, expected {npts * dtype.itemsize}")
        raw = lzf_decompress(data[pos + 8 : pos + 8 + csize], usize)
        off = 0  # fields are stored one after another (structure of arrays)
        for i, f in enumerate(fields):
            sub = dtype.fields[f"{f}_{i}"][0]
            cols[f] = np.frombuffer(raw, dtype=sub.base, count=npts * counts[i], offset=off).reshape(npts, counts[i])
            off += npts * sub.itemsize
    else:
        raise _Corrupt(f"PCD DATA mode {mode!r} is not ascii, binary or binary_compressed")
    if not all(k in cols for k in "xyz"):
        raise _Corrupt(f"PCD has no x, y, z fields (has {fields})")
    pts = np.column_stack([np.asarray(cols[k], dtype=np.float64).reshape(npts, -1)[:, 0] for k in "xyz"])
    normals = colors = None
    if all(k in cols for k in ("normal_x", "normal_y", "normal_z")):
        normals = np.column_stack([np.asarray(cols[k], dtype=np.float64).reshape(npts, -1)[:, 0] for k in ("normal_x", "normal_y", "normal_z")])
    for ck in ("rgb", "rgba"):
        if ck in cols:
            packed = cols[ck]
            if not cols.get(ck + "_packed"):
                packed = np.ascontiguousarray(packed).reshape(npts, -1)[:, 0].view(np.uint32) if packed.dtype.itemsize == 4 else packed
            packed = np.asarray(packed).reshape(-1).astype(np.uint32)
            colors = np.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255], 1) / 255.0
    return pts, normals, colors


def _check_pcd_size(npts, itemsize, values, mode, available):
    """The data a PCD header declares must fit in the bytes after it, before anything is allocated."""
    if mode == "binary":
        least = npts * itemsize
    elif mode == "binary_compressed":
        least = 8 + -(-npts * itemsize // MAX_RATIO)  # size words + the best LZF can do
    else:  # ascii: one character and one separator per value at least
        least = 2 * npts * values - 1 if npts else 0
    if least > available:
        raise _Corrupt(f"PCD header declares {npts} points ({mode}), which need at least {least} bytes; "
                       f"the file has {available} after its header")


# ------------------------------------------------------------------------ text clouds


def _read_text_cloud(data: bytes, ext: str):
    lines = [ln for ln in _text(data).replace(",", " ").replace(";", " ").splitlines()]
    rows = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith(("#", "//"))]
    if rows:
        try:
            [float(v) for v in rows[0].split()]
        except ValueError:
            rows = rows[1:]  # a column-name header line
    if ext == ".pts" and rows and len(rows[0].split()) == 1:
        rows = rows[1:]  # a point-count line
    if not rows:
        return np.zeros((0, 3)), None, None
    try:
        table = np.loadtxt(_stdio.StringIO("\n".join(rows)), dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise _Corrupt(f"text cloud is malformed: {exc}") from None
    ncol = table.shape[1]
    if ncol < 3:
        raise _Corrupt(f"text cloud has {ncol} column(s); need at least x y z")
    pts, normals, colors = table[:, :3], None, None
    if ext == ".xyzn" and ncol < 6:
        raise _Corrupt(f".xyzn file has {ncol} columns; need x y z nx ny nz")
    if ncol >= 6:
        block = table[:, 3:6]
        unit = np.abs(np.linalg.norm(block, axis=1) - 1.0) < 1e-2
        if ext == ".xyzn" or unit.mean() > 0.9:
            normals = block
            if ncol >= 9:
                colors = table[:, 6:9]
        else:
            colors = block
    if colors is not None and np.nanmax(colors) > 1.0:
        colors = colors / 255.0
    return pts, normals, colors


# -------------------------------------------------------------------------------- OBJ


def _read_obj(data: bytes):
    verts, vnorms, colors, corners = [], [], [], []
    for ln in _text(data).splitlines():
        parts = ln.split()
        if not parts:
            continue
        tag = parts[0]
        if tag == "v":
            vals = [float(x) for x in parts[1:]]
            if len(vals) < 3:
                raise _Corrupt(f"OBJ vertex line with {len(vals)} values: {ln!r}")
            verts.append(vals[:3])
            if len(vals) >= 6:
                colors.append(vals[3:6] if len(vals) in (6, 7) else vals[4:7])
        elif tag == "vn":
            vals = [float(x) for x in parts[1:4]]
            if len(vals) != 3:
                raise _Corrupt(f"OBJ normal line with {len(vals)} values: {ln!r}")
            vnorms.append(vals)
        elif tag == "f":
            corner = []
            for tok in parts[1:]:
                pieces = tok.split("/")
                vi = int(pieces[0])
                ni = int(pieces[2]) if len(pieces) >= 3 and pieces[2] else None
                corner.append((vi, ni))
            if len(corner) < 3:
                raise _Corrupt(f"OBJ face with {len(corner)} corners: {ln!r}")
            corners.append(corner)
    nv, nn = len(verts), len(vnorms)

    def resolve(i, count, what):
        j = i - 1 if i > 0 else count + i  # OBJ indices are 1-based; negatives count back
        if i == 0 or not 0 <= j < count:
            raise _Corrupt(f"OBJ face refers to {what} {i}, but there are {count}")
        return j

    polys, vertex_normal = [], np.full((nv, 3), np.nan)
    for corner in corners:
        poly = []
        for vi, ni in corner:
            v = resolve(vi, nv, "vertex")
            poly.append(v)
            if ni is not None:
                vertex_normal[v] = vnorms[resolve(ni, nn, "normal")]
        polys.append(poly)
    pts = np.array(verts, dtype=np.float64).reshape(-1, 3)
    normals = None
    if nn and np.isfinite(vertex_normal).all():
        normals = vertex_normal
    elif nn == nv and not corners:
        normals = np.array(vnorms)
    cols = np.array(colors) if len(colors) == nv and nv else None
    return pts, normals, cols, (_fan(polys) if polys else None)


# -------------------------------------------------------------------------------- OFF


def _read_off(data: bytes):
    lines = [ln.split("#")[0].strip() for ln in _text(data).splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines:
        raise _Corrupt("OFF file is empty")
    m = re.match(r"^(ST)?(C)?(N)?(4)?OFF\s*(.*)$", lines[0])
    if not m:
        raise _Corrupt(f"OFF file does not start with an OFF keyword: {lines[0][:40]!r}")
    has_normals = bool(m.group(3))
    rest = m.group(5).split()
    body = lines[1:]
    if not rest:  # counts on their own line
        if not body:
            raise _Corrupt("OFF file ends before its counts line")
        rest, body = body[0].split(), body[1:]
    try:
        nv, nf = int(rest[0]), int(rest[1])
    except (IndexError, ValueError):
        raise _Corrupt(f"OFF counts line is malformed: {' '.join(rest)!r}") from None
    if nv < 0 or nf < 0:
        raise _Corrupt(f"OFF counts line declares {nv} vertices and {nf} faces: counts must be >= 0")
    if len(body) < nv + nf:
        raise _Corrupt(f"OFF file is truncated: {len(body)} data lines, header says {nv} vertices + {nf} faces")
    try:
        vals = [[float(x) for x in ln.split()] for ln in body[:nv]]
        pts = np.array([v[:3] for v in vals], dtype=np.float64).reshape(-1, 3)
        normals = np.array([v[3:6] for v in vals], dtype=np.float64) if has_normals else None
        polys = []
        for ln in body[nv : nv + nf]:
            toks = [int(x) for x in ln.split()[: 1 + int(ln.split()[0])]]
            if len(toks) != toks[0] + 1 or toks[0] < 3:
                raise _Corrupt(f"OFF face line is malformed: {ln!r}")
            if not all(0 <= v < nv for v in toks[1:]):  # checked here: a huge index would overflow int64 later
                raise _Corrupt(f"OFF face refers to a vertex outside [0, {nv}): {ln!r}")
            polys.append(toks[1:])
    except (ValueError, IndexError) as exc:
        raise _Corrupt(f"OFF data is malformed ({exc})") from None
    faces = _fan(polys) if polys else None
    if faces is not None and len(faces) and (faces.min() < 0 or faces.max() >= nv):
        raise _Corrupt(f"OFF face refers to a vertex outside [0, {nv})")
    return pts, normals, None, faces


# -------------------------------------------------------------------------------- STL

_STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("v", "<f4", (3, 3)), ("attr", "<u2")])


def _read_stl(data: bytes):
    if len(data) >= 84:
        count = struct.unpack("<I", data[80:84])[0]
        if 84 + 50 * count == len(data):
            rec = np.frombuffer(data, dtype=_STL_RECORD, count=count, offset=84)
            return rec["v"].astype(np.float64)
    head = data[:1024].lstrip()
    if head.startswith(b"solid") and (b"facet" in data or b"endsolid" in data):
        text = _text(data)
        nums = re.findall(r"vertex\s+(\S+)\s+(\S+)\s+(\S+)", text)
        try:
            v = np.array(nums, dtype=np.float64).reshape(-1, 3)
        except ValueError as exc:
            raise _Corrupt(f"ascii STL vertex is malformed ({exc})") from None
        if len(v) % 3 or text.count("endfacet") * 3 != len(v):
            raise _Corrupt(f"ascii STL is truncated or corrupt ({len(v)} vertices in {text.count('endfacet')} complete facets)")
        return v.reshape(-1, 3, 3)
    if len(data) >= 84:
        raise _Corrupt(f"binary STL is truncated or corrupt: {len(data)} bytes, {count} triangles need {84 + 50 * count}")
    raise _Corrupt(f"STL is too short ({len(data)} bytes) to be binary and is not ascii")


def _stl_mesh(tris):
    flat = tris.reshape(-1, 3)
    verts, inverse = np.unique(flat, axis=0, return_inverse=True)  # shared corners
    return verts, inverse.reshape(-1, 3).astype(np.int64)


# ------------------------------------------------------------------------- public API


def _parse(path):
    """(points, normals, colors, faces) of any supported file."""
    ext = _extension(path, CLOUD_EXTENSIONS, "point-cloud")
    data = _read_bytes(path)
    try:
        if ext == ".ply":
            return _read_ply(path, data)
        if ext == ".pcd":
            return (*_read_pcd(data), None)
        if ext in (".xyz", ".xyzn", ".txt", ".pts"):
            return (*_read_text_cloud(data, ext), None)
        if ext == ".obj":
            return _read_obj(data)
        if ext == ".off":
            return _read_off(data)
        verts, faces = _stl_mesh(_read_stl(data))
        return verts, None, None, faces
    except (_Corrupt, LZFError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    except (ValueError, IndexError, struct.error, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: corrupt {ext} file ({type(exc).__name__}: {exc})") from None


def read_point_cloud(path, drop_invalid: bool = False) -> PointCloud:
    """Read a point cloud: PointCloud with points (N, 3), normals (N, 3) or None, colors
    (N, 3) in [0, 1] or None.  Mesh files give their vertices (with per-vertex normals
    where the file has them); use load_point_cloud or sample_mesh to sample a surface."""
    pts, normals, colors, _ = _parse(path)
    return _finish(path, pts, normals, colors, drop_invalid)


def read_mesh(path) -> Tuple[np.ndarray, np.ndarray]:
    """Read a triangle mesh (.ply with a face element, .obj, .off, .stl): vertices (V, 3)
    float64 and faces (F, 3) int64, polygons fan-triangulated, STL corners merged."""
    _extension(path, MESH_EXTENSIONS, "mesh")
    pts, _, _, faces = _parse(path)
    if faces is None or len(faces) == 0:
        raise ValueError(f"{path}: has no faces (a point cloud, not a mesh); use read_point_cloud")
    if len(pts) == 0:
        raise ValueError(f"{path}: contains no points")
    if not np.isfinite(pts).all():
        raise ValueError(f"{path}: mesh vertices contain NaN or inf")
    if faces.min() < 0 or faces.max() >= len(pts):
        raise ValueError(f"{path}: faces refer to vertices outside [0, {len(pts)})")
    return pts, faces


def load_point_cloud(path, n_points: Optional[int] = None, seed=0, drop_invalid: bool = False,
                     mesh_points: int = 2048) -> PointCloud:
    """A cloud from any supported file: meshes (files with faces) are sampled with
    sample_mesh(n_points or mesh_points); clouds are read and, when n_points is given,
    resampled to n_points (with replacement only when the file has fewer)."""
    if n_points is not None:
        n_points = as_int(n_points, "n_points", "load_point_cloud")
    mesh_points = as_int(mesh_points, "mesh_points", "load_point_cloud")
    pts, normals, colors, faces = _parse(path)
    if faces is not None and len(faces):
        v, f = read_mesh(path)
        cloud = sample_mesh(v, f, n_points or mesh_points, seed)
        cloud.name = os.path.basename(str(path))
        return cloud
    cloud = _finish(path, pts, normals, colors, drop_invalid)
    if n_points is None:
        return cloud
    idx = resample(cloud.points, n_points, seed)
    pick = lambda x: None if x is None else x[idx]  # noqa: E731
    return PointCloud(cloud.points[idx], pick(cloud.normals), pick(cloud.colors), cloud.name)
