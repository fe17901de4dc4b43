"""Procedural rigid objects for registration training and evaluation (no download).

Every object is a constructive solid: a union of analytic parts (boxes, surfaces of
revolution, superquadrics, tori, extruded star polygons) with random relative poses,
minus optional subtractive parts (notches, holes).  Each part is sampled
area-uniformly with its exact outward normals; a point of an added part survives
when it is not strictly inside another added part or inside a subtracted one, and a
point of a subtracted part survives (normal flipped) when it lies inside the solid.
So a composite's samples lie on the true union surface, with uniform density.

Families (``FAMILIES``):

* ``primitive``    box, cylinder, cone / frustum, ellipsoid, torus
* ``superquadric`` exponents from sharp (0.1, nearly a box) to smooth (1.9, pinched)
* ``composite``    union of 2-5 primitives, each placed on the surface of an earlier one
* ``extrusion``    prisms over random star-shaped polygons (sharp edges)
* ``revolved``     surfaces of revolution of random piecewise-linear profiles (vases)
* ``mechanical``   near-symmetric parts: notched box, mug (cylinder + torus handle),
  flanged shaft with a key, plate with holes, L-bracket with a hole, hexagon bolt

Held-out split (unseen categories, as ModelNet40's protocol): training uses
``TRAIN_FAMILIES`` and seeds in ``TRAIN_SEEDS``; evaluation uses ``TEST_FAMILIES``
and seeds in ``TEST_SEEDS``.  Both the families and the seed ranges are disjoint, so
evaluation objects are never shapes seen in training.  ``split(seed)`` names the side
of a seed.

Objects are centred on their bounding-box centre and scaled to a bounding-box
diagonal of 1 (the ``diameter``), measured on the returned samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ...pointcloud.cloud import PointCloud, as_rng

FAMILIES = ("primitive", "superquadric", "composite", "extrusion", "revolved", "mechanical")
TRAIN_FAMILIES = ("primitive", "superquadric", "composite", "extrusion")
TEST_FAMILIES = ("revolved", "mechanical")
TRAIN_SEEDS = range(0, 1_000_000)
TEST_SEEDS = range(1_000_000, 1_100_000)

# A point counts as strictly inside a part when it is deeper than this (object units,
# parts are built at unit scale), so points on shared or touching faces survive.
INSIDE_TOL = 1e-9
TWO_PI = 2.0 * math.pi


def split(seed: int) -> str:
    """'train' or 'test': the side of the held-out split that `seed` belongs to."""
    if seed in TRAIN_SEEDS:
        return "train"
    if seed in TEST_SEEDS:
        return "test"
    raise ValueError(f"'seed' {seed} is in neither TRAIN_SEEDS {TRAIN_SEEDS} nor TEST_SEEDS {TEST_SEEDS}")


def _f(x: float) -> str:
    return f"{x:.3g}"


# ---------------------------------------------------------------------------- parts
# Each part lives in its own frame and offers: area, sample(n, rng) -> (points, normals),
# inside(x) -> bool mask of points strictly inside, mesh(res) -> (vertices, faces).


class Box:
    def __init__(self, half):
        self.h = np.asarray(half, dtype=np.float64)
        hx, hy, hz = self.h
        face = np.array([hy * hz, hy * hz, hx * hz, hx * hz, hx * hy, hx * hy]) * 4.0
        self.area = float(face.sum())
        self._p = face / face.sum()

    def describe(self):
        return "box(" + ",".join(_f(2 * v) for v in self.h) + ")"

    def sample(self, n, rng):
        face = rng.choice(6, n, p=self._p)
        axis, sign = face // 2, np.where(face % 2 == 1, 1.0, -1.0)
        pts = (rng.random((n, 3)) * 2.0 - 1.0) * self.h
        rows = np.arange(n)
        pts[rows, axis] = sign * self.h[axis]
        nrm = np.zeros((n, 3))
        nrm[rows, axis] = sign
        return pts, nrm

    def inside(self, x, tol=INSIDE_TOL):
        return (np.abs(x) < self.h - tol).all(axis=1)

    def mesh(self, res=None):
        v = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float) * self.h
        quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
        faces = [(a, b, c) for a, b, c, d in quads] + [(a, c, d) for a, b, c, d in quads]
        return v, np.array(faces, dtype=np.int64)


class Revolved:
    """Surface of revolution about z of the piecewise-linear profile r(z) (z strictly
    increasing), closed by flat caps where the end radius is not zero.  Each profile
    segment is a frustum band, sampled exactly (density along the slant grows with r)."""

    def __init__(self, z, r, label="revolved"):
        self.z = np.asarray(z, dtype=np.float64)
        self.r = np.asarray(r, dtype=np.float64)
        self.label = label
        dz, dr = np.diff(self.z), np.diff(self.r)
        self.slant = np.hypot(dz, dr)
        band = math.pi * (self.r[:-1] + self.r[1:]) * self.slant
        caps = math.pi * np.array([self.r[0] ** 2, self.r[-1] ** 2])
        areas = np.concatenate([band, caps])
        self.area = float(areas.sum())
        self._p = areas / areas.sum()
        self._nb = len(band)

    def describe(self):
        if self.label in ("cylinder", "cone", "frustum"):
            return f"{self.label}(r0={_f(self.r[0])},r1={_f(self.r[-1])},h={_f(self.z[-1] - self.z[0])})"
        return f"{self.label}(z=[" + ",".join(map(_f, self.z)) + "],r=[" + ",".join(map(_f, self.r)) + "])"

    def sample(self, n, rng):
        k = rng.choice(len(self._p), n, p=self._p)
        u, th = rng.random(n), rng.random(n) * TWO_PI
        c, s = np.cos(th), np.sin(th)
        nb = self._nb
        kb = np.minimum(k, nb - 1)
        r0, dr = self.r[kb], self.r[kb + 1] - self.r[kb]
        dz = self.z[kb + 1] - self.z[kb]
        # Inverse CDF of the density proportional to r(t) = r0 + t dr on t in [0, 1],
        # written without dividing by dr so cylinders (dr = 0) need no branch.
        cmass = r0 + 0.5 * dr
        t = 2.0 * u * cmass / np.maximum(r0 + np.sqrt(np.maximum(r0 * r0 + 2.0 * dr * u * cmass, 0.0)), 1e-300)
        rho = r0 + t * dr
        z = self.z[kb] + t * dz
        L = self.slant[kb]
        nrm = np.stack([dz * c / L, dz * s / L, -dr / L], axis=1)
        cap = k >= nb
        if cap.any():
            top = k == nb + 1
            rc = np.where(top, self.r[-1], self.r[0])
            rho = np.where(cap, rc * np.sqrt(u), rho)
            z = np.where(cap, np.where(top, self.z[-1], self.z[0]), z)
            capn = np.where(top, 1.0, -1.0)
            nrm[cap] = 0.0
            nrm[cap, 2] = capn[cap]
        pts = np.stack([rho * c, rho * s, z], axis=1)
        return pts, nrm

    def inside(self, x, tol=INSIDE_TOL):
        z = x[:, 2]
        within = (z > self.z[0] + tol) & (z < self.z[-1] - tol)
        rho = np.hypot(x[:, 0], x[:, 1])
        return within & (rho < np.interp(z, self.z, self.r) - tol)

    def mesh(self, res=48):
        th = np.arange(res) * (TWO_PI / res)
        rings = [np.stack([r * np.cos(th), r * np.sin(th), np.full(res, z)], 1) for z, r in zip(self.z, self.r)]
        v = np.concatenate(rings)
        faces = []
        j = np.arange(res)
        jn = (j + 1) % res
        for i in range(len(self.z) - 1):
            a, b = i * res + j, (i + 1) * res + j
            an, bn = i * res + jn, (i + 1) * res + jn
            faces += [np.stack([a, an, bn], 1), np.stack([a, bn, b], 1)]
        extra = []
        for end, (z, r) in enumerate([(self.z[0], self.r[0]), (self.z[-1], self.r[-1])]):
            if r > 0:
                centre = len(v) + len(extra)
                extra.append([0.0, 0.0, z])
                ring = (0 if end == 0 else len(self.z) - 1) * res
                tri = np.stack([np.full(res, centre), ring + jn, ring + j], 1)
                faces.append(tri if end == 0 else tri[:, [0, 2, 1]])
        if extra:
            v = np.concatenate([v, np.array(extra)])
        f = np.concatenate(faces).astype(np.int64)
        # a zero-radius ring is one point (a tip): weld it so the mesh stays closed
        remap = np.arange(len(v))
        for i in np.flatnonzero(self.r == 0.0):
            remap[i * res : (i + 1) * res] = i * res
        f = remap[f]
        f = f[(f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 2] != f[:, 0])]
        used, f = np.unique(f, return_inverse=True)
        return v[used], f.reshape(-1, 3).astype(np.int64)


class Superquadric:
    """Barr's superquadric (|x/a|^(2/e2) + |y/b|^(2/e2))^(e2/e1) + |z/c|^(2/e1) = 1,
    convex for exponents <= 2.  Sampled radially: directions from the ellipsoid-warped
    sphere, accepted with the ratio of the surface area element to that proposal."""

    def __init__(self, abc, e1=1.0, e2=1.0, label="superquadric"):
        self.abc = np.asarray(abc, dtype=np.float64)
        self.e1, self.e2, self.label = float(e1), float(e2), label
        # Area from a fixed Fibonacci sphere, so it needs no random numbers.
        d = _fibonacci_sphere(768)
        p, nrm = self._radial(d)
        w = (p * p).sum(1) / np.einsum("ij,ij->i", nrm, d)
        self.area = float(4.0 * math.pi * w.mean())
        self._inv_abc = 1.0 / self.abc

    def describe(self):
        a = ",".join(_f(2 * v) for v in self.abc)
        if self.label == "ellipsoid":
            return f"ellipsoid({a})"
        return f"superquadric({a},e1={_f(self.e1)},e2={_f(self.e2)})"

    def _F(self, x):
        q = np.abs(x) / self.abc
        A = q[:, 0] ** (2.0 / self.e2) + q[:, 1] ** (2.0 / self.e2)
        return A ** (self.e2 / self.e1) + q[:, 2] ** (2.0 / self.e1)

    def _normal(self, x):
        q = np.abs(x) / self.abc
        p2 = 2.0 / self.e2
        A = np.maximum(q[:, 0] ** p2 + q[:, 1] ** p2, 1e-300)
        g = A ** (self.e2 / self.e1 - 1.0)
        grad = np.empty_like(x)
        grad[:, 0] = g * q[:, 0] ** (p2 - 1.0)
        grad[:, 1] = g * q[:, 1] ** (p2 - 1.0)
        grad[:, 2] = q[:, 2] ** (2.0 / self.e1 - 1.0)
        grad *= np.sign(x) / self.abc
        return grad / np.linalg.norm(grad, axis=1, keepdims=True)

    def _radial(self, d):
        """Surface points along unit directions d (F is homogeneous of degree 2/e1)."""
        p = d * (self._F(d) ** (-0.5 * self.e1))[:, None]
        return p, self._normal(p)

    def sample(self, n, rng):
        out_p, out_n, have = [], [], 0
        while have < n:
            m = 3 * (n - have) + 16
            g = rng.standard_normal((m, 3)) * self.abc
            d = g / np.linalg.norm(g, axis=1, keepdims=True)
            p, nrm = self._radial(d)
            # area element r^2 / (n.d) over the proposal density ~ 1 / |A^-1 d|^3
            w = (p * p).sum(1) / np.einsum("ij,ij->i", nrm, d) * np.linalg.norm(d * self._inv_abc, axis=1) ** 3
            keep = rng.random(m) * w.max() < w
            out_p.append(p[keep])
            out_n.append(nrm[keep])
            have += int(keep.sum())
        return np.concatenate(out_p)[:n], np.concatenate(out_n)[:n]

    def inside(self, x, tol=INSIDE_TOL):
        return self._F(x) < 1.0 - tol

    def mesh(self, res=32):
        d = _uv_sphere_dirs(res)
        v, _ = self._radial(d[0])
        return v, d[1]


class Torus:
    """Ring torus about z: tube radius r around a circle of radius R (R > r)."""

    def __init__(self, R, r):
        self.R, self.r = float(R), float(r)
        self.area = 4.0 * math.pi**2 * self.R * self.r

    def describe(self):
        return f"torus(R={_f(self.R)},r={_f(self.r)})"

    def sample(self, n, rng):
        vs, have = [], 0
        while have < n:
            m = 2 * (n - have) + 16
            v = rng.random(m) * TWO_PI
            keep = rng.random(m) * (self.R + self.r) < self.R + self.r * np.cos(v)
            vs.append(v[keep])
            have += int(keep.sum())
        v = np.concatenate(vs)[:n]
        u = rng.random(n) * TWO_PI
        nrm = np.stack([np.cos(v) * np.cos(u), np.cos(v) * np.sin(u), np.sin(v)], 1)
        centre = np.stack([self.R * np.cos(u), self.R * np.sin(u), np.zeros(n)], 1)
        return centre + self.r * nrm, nrm

    def inside(self, x, tol=INSIDE_TOL):
        rho = np.hypot(x[:, 0], x[:, 1])
        return (rho - self.R) ** 2 + x[:, 2] ** 2 < (self.r - tol) ** 2

    def mesh(self, res=32):
        u = np.arange(2 * res) * (TWO_PI / (2 * res))
        v = np.arange(res) * (TWO_PI / res)
        U, V = np.meshgrid(u, v, indexing="ij")
        rho = self.R + self.r * np.cos(V)
        verts = np.stack([rho * np.cos(U), rho * np.sin(U), self.r * np.sin(V)], -1).reshape(-1, 3)
        return verts, _grid_faces(2 * res, res, wrap_u=True, wrap_v=True)


class Prism:
    """Extrusion over z in [-h, h] of a polygon that is star-shaped about the origin
    (vertices at increasing angles, gaps < pi), so a fan from the origin triangulates it."""

    def __init__(self, poly, h, label="prism"):
        self.poly = np.asarray(poly, dtype=np.float64)
        self.h, self.label = float(h), label
        v0, v1 = self.poly, np.roll(self.poly, -1, axis=0)
        self.edge = v1 - v0
        self.elen = np.linalg.norm(self.edge, axis=1)
        tri = 0.5 * (v0[:, 0] * v1[:, 1] - v0[:, 1] * v1[:, 0])
        areas = np.concatenate([self.elen * 2.0 * self.h, tri, tri])
        self.area = float(areas.sum())
        self._p = areas / areas.sum()
        self.angles = np.mod(np.arctan2(v0[:, 1], v0[:, 0]), TWO_PI)

    def describe(self):
        return f"{self.label}(k={len(self.poly)},h={_f(2 * self.h)},rmax={_f(np.linalg.norm(self.poly, axis=1).max())})"

    def sample(self, n, rng):
        K = len(self.poly)
        k = rng.choice(3 * K, n, p=self._p)
        u, w = rng.random(n), rng.random(n)
        i = k % K
        v0, e = self.poly[i], self.edge[i]
        side = k < K
        # side rectangles
        pts = np.empty((n, 3))
        pts[:, :2] = v0 + u[:, None] * e
        pts[:, 2] = (2.0 * w - 1.0) * self.h
        nrm = np.zeros((n, 3))
        nrm[:, 0], nrm[:, 1] = e[:, 1] / self.elen[i], -e[:, 0] / self.elen[i]
        # cap triangles (origin, v_i, v_i+1), uniform by folding the unit square
        cap = ~side
        flip = u + w > 1.0
        a, b = np.where(flip, 1.0 - u, u), np.where(flip, 1.0 - w, w)
        v1 = v0 + e
        capxy = a[:, None] * v0 + b[:, None] * v1
        top = k >= 2 * K
        pts[cap, :2] = capxy[cap]
        pts[cap, 2] = np.where(top[cap], self.h, -self.h)
        nrm[cap] = 0.0
        nrm[cap, 2] = np.where(top[cap], 1.0, -1.0)
        return pts, nrm

    def inside(self, x, tol=INSIDE_TOL):
        ang = np.mod(np.arctan2(x[:, 1], x[:, 0]), TWO_PI)
        i = (np.searchsorted(self.angles, ang, side="right") - 1) % len(self.poly)
        rel = x[:, :2] - self.poly[i]
        cross = self.edge[i, 0] * rel[:, 1] - self.edge[i, 1] * rel[:, 0]
        return (cross > tol * self.elen[i]) & (np.abs(x[:, 2]) < self.h - tol)

    def mesh(self, res=None):
        K = len(self.poly)
        bot = np.column_stack([self.poly, np.full(K, -self.h)])
        top = np.column_stack([self.poly, np.full(K, self.h)])
        v = np.concatenate([bot, top, [[0, 0, -self.h], [0, 0, self.h]]])
        j, jn = np.arange(K), (np.arange(K) + 1) % K
        faces = np.concatenate(
            [
                np.stack([j, jn, K + jn], 1),
                np.stack([j, K + jn, K + j], 1),
                np.stack([np.full(K, 2 * K), jn, j], 1),
                np.stack([np.full(K, 2 * K + 1), K + j, K + jn], 1),
            ]
        )
        return v, faces.astype(np.int64)


def _fibonacci_sphere(n):
    i = np.arange(n) + 0.5
    z = 1.0 - 2.0 * i / n
    phi = i * (math.pi * (3.0 - math.sqrt(5.0)))
    s = np.sqrt(1.0 - z * z)
    return np.stack([s * np.cos(phi), s * np.sin(phi), z], 1)


def _grid_faces(nu, nv, wrap_u, wrap_v):
    iu, iv = np.meshgrid(np.arange(nu if wrap_u else nu - 1), np.arange(nv if wrap_v else nv - 1), indexing="ij")
    iu, iv = iu.ravel(), iv.ravel()
    a = iu * nv + iv
    b = ((iu + 1) % nu) * nv + iv
    c = ((iu + 1) % nu) * nv + (iv + 1) % nv
    d = iu * nv + (iv + 1) % nv
    return np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)]).astype(np.int64)


def _uv_sphere_dirs(res):
    """Unit directions of a latitude-longitude sphere and its outward triangles."""
    lat = np.linspace(0.0, math.pi, res + 1)[1:-1]
    lon = np.arange(2 * res) * (math.pi / res)
    L, O = np.meshgrid(lon, lat, indexing="ij")  # (2res, res-1)
    d = np.stack([np.sin(O) * np.cos(L), np.sin(O) * np.sin(L), np.cos(O)], -1).reshape(-1, 3)
    nu, nv = 2 * res, res - 1
    faces = [_grid_faces(nu, nv, wrap_u=True, wrap_v=False)[:, ::-1]]
    north, south = len(d), len(d) + 1
    iu, iun = np.arange(nu), (np.arange(nu) + 1) % nu
    faces.append(np.stack([np.full(nu, north), iu * nv, iun * nv], 1))
    faces.append(np.stack([np.full(nu, south), iun * nv + nv - 1, iu * nv + nv - 1], 1))
    d = np.concatenate([d, [[0, 0, 1.0], [0, 0, -1.0]]])
    return d, np.concatenate(faces).astype(np.int64)


# ------------------------------------------------------------------------ solids


@dataclass
class Placed:
    part: object
    R: np.ndarray
    t: np.ndarray
    subtract: bool = False

    def to_local(self, x):
        return (x - self.t) @ self.R


@dataclass
class Solid:
    """Union of the added parts minus the union of the subtracted ones."""

    family: str
    parts: List[Placed]

    @property
    def name(self) -> str:
        body = " + ".join(p.part.describe() for p in self.parts if not p.subtract)
        cut = " - ".join(p.part.describe() for p in self.parts if p.subtract)
        return f"{self.family}:{body}" + (f" - {cut}" if cut else "")

    def contains(self, x: np.ndarray) -> np.ndarray:
        """Bool mask of points (M, 3), in part units, strictly inside the solid: strictly
        inside an added part and not in a subtracted part or on its boundary."""
        added = np.zeros(len(x), dtype=bool)
        cut = np.zeros(len(x), dtype=bool)
        for pl in self.parts:
            inside = pl.part.inside(pl.to_local(x), -INSIDE_TOL if pl.subtract else INSIDE_TOL)
            if pl.subtract:
                cut |= inside
            else:
                added |= inside
        return added & ~cut

    def _surface_round(self, n_per_area, rng):
        pts, nrms = [], []
        for i, pl in enumerate(self.parts):
            m = int(math.ceil(n_per_area * pl.part.area))
            p, nr = pl.part.sample(m, rng)
            p = p @ pl.R.T + pl.t
            nr = nr @ pl.R.T
            keep = np.ones(m, dtype=bool)
            if pl.subtract:
                in_solid = np.zeros(m, dtype=bool)
                for j, other in enumerate(self.parts):
                    if j == i:
                        continue
                    inside = other.part.inside(other.to_local(p))
                    if other.subtract:
                        keep &= ~inside
                    else:
                        in_solid |= inside
                keep &= in_solid
                nr = -nr
            else:
                for j, other in enumerate(self.parts):
                    if j != i:
                        keep &= ~other.part.inside(other.to_local(p))
            pts.append(p[keep])
            nrms.append(nr[keep])
        return np.concatenate(pts), np.concatenate(nrms)

    def sample(self, n, rng):
        """n area-uniform surface samples (points, outward unit normals) in part units."""
        total = sum(pl.part.area for pl in self.parts)
        if len(self.parts) == 1:
            return self.parts[0].part.sample(n, rng)
        density = 1.15 * n / total
        pts, nrms = self._surface_round(density, rng)
        while len(pts) < n:  # the union lost more than expected: top up at the same density
            frac = max(len(pts), 1) / (density * total)
            p2, n2 = self._surface_round(1.2 * (n - len(pts)) / (frac * total), rng)
            pts, nrms = np.concatenate([pts, p2]), np.concatenate([nrms, n2])
        pick = rng.choice(len(pts), n, replace=False)
        return pts[pick], nrms[pick]


# ------------------------------------------------------------------ random builders


def _haar_rotation(rng) -> np.ndarray:
    q = rng.standard_normal(4)
    x, y, z, w = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _axis_rotation(axis: int, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    R = np.eye(3)
    R[i, i], R[i, j], R[j, i], R[j, j] = c, -s, s, c
    return R


def _random_primitive(rng, kinds=("box", "cylinder", "cone", "ellipsoid", "torus")):
    kind = kinds[rng.integers(len(kinds))]
    if kind == "box":
        return Box(rng.uniform(0.15, 0.5, 3))
    if kind == "cylinder":
        r, h = rng.uniform(0.12, 0.4), rng.uniform(0.2, 0.5)
        return Revolved([-h, h], [r, r], "cylinder")
    if kind == "cone":
        r0, h = rng.uniform(0.15, 0.45), rng.uniform(0.2, 0.5)
        r1 = 0.0 if rng.random() < 0.5 else r0 * rng.uniform(0.2, 0.8)
        return Revolved([-h, h], [r0, r1], "cone" if r1 == 0.0 else "frustum")
    if kind == "ellipsoid":
        return Superquadric(rng.uniform(0.15, 0.5, 3), 1.0, 1.0, "ellipsoid")
    R = rng.uniform(0.25, 0.45)
    return Torus(R, R * rng.uniform(0.2, 0.6))


def _star_polygon(rng, k=None, jitter=True):
    k = int(rng.integers(3, 13)) if k is None else k
    if jitter:
        # random angles with gaps bounded away from pi keep the polygon star-shaped
        gaps = rng.uniform(0.7, 1.3, k)
        ang = np.cumsum(gaps) / gaps.sum() * TWO_PI
        ang = ang - ang[0] + rng.uniform(0, TWO_PI)
    else:
        ang = np.arange(k) * (TWO_PI / k)
    if rng.random() < 0.4 and k >= 5 and jitter:  # alternating radii: a star
        r = np.where(np.arange(k) % 2 == 0, 1.0, rng.uniform(0.35, 0.7)) * rng.uniform(0.3, 0.5)
    else:
        r = rng.uniform(0.25, 0.5, k) if jitter else np.full(k, 0.4)
    order = np.argsort(np.mod(ang, TWO_PI))
    ang, r = np.mod(ang, TWO_PI)[order], r[order]
    return np.stack([r * np.cos(ang), r * np.sin(ang)], 1)


def _place(part, R=None, t=None, subtract=False):
    return Placed(part, np.eye(3) if R is None else R, np.zeros(3) if t is None else np.asarray(t, float), subtract)


def _build_primitive(rng):
    return [_place(_random_primitive(rng))]


def _build_superquadric(rng):
    e1, e2 = rng.uniform(0.1, 1.9, 2)
    return [_place(Superquadric(rng.uniform(0.2, 0.5, 3), e1, e2))]


def _build_extrusion(rng):
    return [_place(Prism(_star_polygon(rng), rng.uniform(0.1, 0.5), "extrusion"))]


def _build_revolved(rng):
    k = int(rng.integers(3, 8))
    z = np.sort(rng.uniform(-0.5, 0.5, k))
    z = np.linspace(-0.5, 0.5, k) * 0.5 + z * 0.5  # keep knots apart
    r = rng.uniform(0.08, 0.4, k)
    if rng.random() < 0.3:
        r[-1] = 0.0  # pointed top
    return [_place(Revolved(z, r, "revolved"))]


def _build_composite(rng):
    count = int(rng.integers(2, 6))
    placed: List[Placed] = []
    for i in range(count):
        part = _random_primitive(rng, ("box", "cylinder", "cone", "ellipsoid", "box", "torus"))
        if i == 0:
            placed.append(_place(part))
            continue
        # centre the new part on the surface of an earlier one so the union is connected
        anchor = placed[int(rng.integers(len(placed)))]
        p, _ = anchor.part.sample(1, rng)
        t = p[0] @ anchor.R.T + anchor.t
        placed.append(_place(part, _haar_rotation(rng), t))
    return placed


def _build_mechanical(rng):
    kind = int(rng.integers(6))
    if kind == 0:  # box with a small cube notch cut out of one corner
        h = rng.uniform(0.2, 0.5, 3)
        corner = h * rng.choice([-1.0, 1.0], 3)
        return [_place(Box(h)), _place(Box(h * rng.uniform(0.12, 0.3, 3)), t=corner, subtract=True)]
    if kind == 1:  # mug: cylinder with a torus handle
        r, hh = rng.uniform(0.2, 0.35), rng.uniform(0.25, 0.45)
        R = rng.uniform(0.35, 0.6) * hh
        handle = Torus(R, R * rng.uniform(0.15, 0.3))
        Rx = _axis_rotation(0, math.pi / 2)
        return [_place(Revolved([-hh, hh], [r, r], "cylinder")), _place(handle, Rx, [r, 0, rng.uniform(-0.2, 0.2) * hh])]
    if kind == 2:  # flanged shaft with a key
        r, hh = rng.uniform(0.08, 0.15), rng.uniform(0.3, 0.5)
        rf, hf = rng.uniform(0.25, 0.4), rng.uniform(0.03, 0.08)
        zf = rng.uniform(-0.6, 0.2) * hh
        key = Box([r * 0.3, r * 0.3, hh * 0.25])
        return [
            _place(Revolved([-hh, hh], [r, r], "cylinder")),
            _place(Revolved([zf - hf, zf + hf], [rf, rf], "cylinder")),
            _place(key, t=[r, 0, hh * 0.55]),
        ]
    if kind == 3:  # plate with 1-3 through holes
        h = np.array([rng.uniform(0.3, 0.5), rng.uniform(0.2, 0.4), rng.uniform(0.03, 0.08)])
        parts = [_place(Box(h))]
        for _ in range(int(rng.integers(1, 4))):
            rh = rng.uniform(0.03, 0.08)
            c = (rng.uniform(-1, 1, 2) * (h[:2] - 1.5 * rh)).tolist()
            parts.append(_place(Revolved([-2 * h[2], 2 * h[2]], [rh, rh], "cylinder"), t=c + [0.0], subtract=True))
        return parts
    if kind == 4:  # L-bracket with a hole in the upright
        a, b, th = rng.uniform(0.3, 0.5), rng.uniform(0.2, 0.35), rng.uniform(0.03, 0.07)
        base = Box([a, b, th])
        upright = Box([th, b, a * rng.uniform(0.5, 0.9)])
        up_t = [a - th, 0.0, upright.h[2] - th * 0.5]
        hole = Revolved([-2 * th, 2 * th], [0.4 * b] * 2, "cylinder")
        Ry = _axis_rotation(1, math.pi / 2)
        return [_place(base), _place(upright, t=up_t), _place(hole, Ry, [a - th, 0.0, up_t[2] + 0.3 * upright.h[2]], True)]
    # hexagon bolt: prism head + cylinder shaft
    head = Prism(_star_polygon(rng, 6, jitter=False) * rng.uniform(0.5, 0.8), rng.uniform(0.05, 0.1), "hexagon")
    r, hh = rng.uniform(0.08, 0.14), rng.uniform(0.25, 0.45)
    return [_place(head, t=[0, 0, hh]), _place(Revolved([-hh, hh + head.h * 0.5], [r, r], "cylinder"))]


_BUILDERS = {
    "primitive": _build_primitive,
    "superquadric": _build_superquadric,
    "composite": _build_composite,
    "extrusion": _build_extrusion,
    "revolved": _build_revolved,
    "mechanical": _build_mechanical,
}


def make_solid(seed, family: Optional[str] = None) -> Tuple[Solid, np.random.Generator]:
    """The random solid of `seed` (and the generator, positioned after its parameters).

    family None draws one of FAMILIES from the seed."""
    rng = as_rng(seed)
    if family is None:
        family = FAMILIES[int(rng.integers(len(FAMILIES)))]
    if family not in _BUILDERS:
        raise ValueError(f"'family' must be one of {FAMILIES}, got {family!r}")
    return Solid(family, _BUILDERS[family](rng)), rng


def make_object(seed, family: Optional[str] = None, n_points: int = 2048) -> PointCloud:
    """A random object's surface samples.

    seed      int (or np.random.Generator); the same seed gives the same object
    family    one of FAMILIES, or None to draw it from the seed
    n_points  number of samples N

    Returns a PointCloud: points (N, 3) float64 centred on the bounding-box centre with
    bounding-box diagonal 1 (diameter = 1.0), normals (N, 3) unit outward, name
    '<family>:<parts and parameters>'."""
    if isinstance(n_points, (bool, np.bool_)) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise ValueError(f"'n_points' must be an int >= 2, got {n_points!r}")
    solid, rng = make_solid(seed, family)
    pts, nrm = solid.sample(int(n_points), rng)
    lo, hi = pts.min(0), pts.max(0)
    scale = np.linalg.norm(hi - lo)
    pts = (pts - 0.5 * (lo + hi)) / scale
    return PointCloud(pts, nrm, None, solid.name, 1.0)


def make_mesh(seed, family: Optional[str] = None, resolution: int = 32) -> Tuple[np.ndarray, np.ndarray]:
    """Triangle mesh of the single-part object of `seed` (families primitive,
    superquadric, extrusion, revolved), with outward (counter-clockwise) faces.

    Returns vertices (V, 3) float64 (bounding-box centred, diagonal 1) and faces (F, 3)
    int64.  Curved surfaces are tessellated at `resolution`.  Composite and mechanical
    objects are CSG unions without a mesh and raise ValueError."""
    solid, _ = make_solid(seed, family)
    if len(solid.parts) != 1:
        raise ValueError(f"'family' {solid.family!r} builds a CSG solid of {len(solid.parts)} parts: no mesh; use make_object")
    v, f = solid.parts[0].part.mesh(resolution)
    lo, hi = v.min(0), v.max(0)
    return (v - 0.5 * (lo + hi)) / np.linalg.norm(hi - lo), f


def solid_parts(seed, family: Optional[str] = None) -> Sequence[Placed]:
    """The placed parts of the solid of `seed` (for tests and visual checks)."""
    return make_solid(seed, family)[0].parts
