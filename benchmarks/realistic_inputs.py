"""Realistic registration problems: dense model clouds of real meshes and partial, noisy scans.

Objects are real, non-symmetric meshes from Debian's ``assimp-testmodels`` package
(installed by benchmarks/setup_peers.sh; nothing is downloaded at run time), sampled
area-uniformly. A scan is sampled from the same mesh with another seed and six times
denser (so its points are not the model's points), cut to a partial view, resampled to
3,000-4,000 points, made noisy and moved by a uniform random rotation over SO(3) and a
translation up to half the object's diameter.

Settings (``SETTINGS``):
  crop        half-space crop keeping 70% of the surface, Gaussian noise 1% of the diameter
  view        single view (hidden-point removal from a random viewpoint), noise 0.5%
  clutter     the single view plus 15% uniform outliers in the scan's bounding box

Every problem is a pure function of (object, setting, trial index, seed): the same
inputs for every method and every run.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial import ConvexHull

ASSIMP_MODELS = Path("/usr/share/assimp/models")
# Chosen for being real scanned/modelled objects with no rotational symmetry; each is
# a triangle mesh that both Open3D and manif_py read. Units are kept as they are
# (3.6 to 90 across objects): a pipeline that needs per-scale tuning shows it.
MESHES = {
    "wuson": "OFF/Wuson.off",  # a cartoon character figure
    "spider": "STL/Spider_binary.stl",  # a spider: legs, body, abdomen
    "max_figure": "STL/3DSMaxExport.STL",  # a thin skeletal figure in a pose
}
SETTINGS = ("crop", "view", "clutter")
MODEL_POINTS = 10_000
SCAN_POINTS = (3_000, 4_000)
CROP_KEEP = 0.7
NOISE = {"crop": 0.01, "view": 0.005, "clutter": 0.005}  # sigma, fraction of the diameter
CLUTTER_FRACTION = 0.15  # share of the scan's points that are outliers
MAX_TRANSLATION = 0.5  # fraction of the diameter
# Scans are cut from a sampling this many times denser than the model's.
SCAN_OVERSAMPLING = 6  # a single view keeps 10-25% of the surface: still more than 4,000 points


@dataclass
class RealisticObject:
    name: str
    vertices: np.ndarray  # (V, 3), centred on the model cloud's bounding-box centre
    faces: np.ndarray  # (F, 3) int
    model: np.ndarray  # (MODEL_POINTS, 3)
    diameter: float  # bounding-box diagonal of the model cloud


@dataclass
class Problem:
    object_name: str
    setting: str
    trial: int
    scan: np.ndarray  # (N, 3), N in SCAN_POINTS
    T_true: np.ndarray  # (4, 4): maps the scan into the model's frame
    diameter: float


def _seed(*parts) -> int:
    """A stable 32-bit seed from names and numbers (Python's hash() is salted per process)."""
    return zlib.crc32("/".join(map(str, parts)).encode())


def read_mesh(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(vertices, faces) of a mesh file, with manif_py's reader, else Open3D's."""
    try:
        from manif_py.pointcloud.readers import read_mesh as manif_read_mesh
    except ImportError:  # before point-cloud IO had its own package; Open3D reads these formats too
        try:
            from manif_py.registration.io import read_mesh as manif_read_mesh
        except ImportError:
            manif_read_mesh = None
    if manif_read_mesh is None:
        import open3d as o3d

        mesh = o3d.io.read_triangle_mesh(str(path))
        return np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.triangles, dtype=np.int64)
    v, f = manif_read_mesh(str(path))
    return np.asarray(v, dtype=np.float64), np.asarray(f, dtype=np.int64)


def sample_surface(vertices: np.ndarray, faces: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points uniform by area on the triangle mesh."""
    tri = vertices[faces]  # (F, 3, 3)
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    which = rng.choice(len(faces), n, p=area / area.sum())
    u, v = rng.random(n), rng.random(n)
    flip = u + v > 1.0  # fold the unit square onto the triangle
    u[flip], v[flip] = 1.0 - u[flip], 1.0 - v[flip]
    t = tri[which]
    return t[:, 0] + u[:, None] * (t[:, 1] - t[:, 0]) + v[:, None] * (t[:, 2] - t[:, 0])


def bbox_diagonal(points: np.ndarray) -> float:
    return float(np.linalg.norm(points.max(axis=0) - points.min(axis=0)))


def load_object(name: str, model_points: int = MODEL_POINTS, seed: int = 0) -> RealisticObject:
    """The named mesh of MESHES with a dense model cloud of model_points samples."""
    if name not in MESHES:
        raise ValueError(f"argument 'name': unknown object {name!r}; expected one of {sorted(MESHES)}")
    path = ASSIMP_MODELS / MESHES[name]
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: install Debian's assimp-testmodels "
                                "(bash benchmarks/setup_peers.sh does it)")
    vertices, faces = read_mesh(path)
    model = sample_surface(vertices, faces, model_points, np.random.default_rng(_seed("model", name, seed)))
    centre = 0.5 * (model.max(axis=0) + model.min(axis=0))
    return RealisticObject(name, vertices - centre, faces, model - centre, bbox_diagonal(model))


def uniform_rotation(rng: np.random.Generator) -> np.ndarray:
    """A rotation uniform over SO(3) (Haar): a normalised Gaussian quaternion."""
    x, y, z, w = (q := rng.normal(size=4)) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def random_direction(rng: np.random.Generator) -> np.ndarray:
    d = rng.normal(size=3)
    return d / np.linalg.norm(d)


def crop_half_space(points: np.ndarray, rng: np.random.Generator, keep: float = CROP_KEEP) -> np.ndarray:
    """The share `keep` of points on one side of a plane with a random normal."""
    depth = points @ random_direction(rng)
    return points[depth <= np.quantile(depth, keep)]


def hidden_point_removal(points: np.ndarray, viewpoint: np.ndarray, radius_factor: float = 100.0) -> np.ndarray:
    """Points visible from viewpoint (Katz, Tal, Basri 2007): spherical flip, then the convex hull."""
    p = points - viewpoint
    norm = np.linalg.norm(p, axis=1, keepdims=True)
    radius = norm.max() * radius_factor
    flipped = p + 2.0 * (radius - norm) * p / norm
    hull = ConvexHull(np.vstack([flipped, np.zeros((1, 3))]))
    visible = hull.vertices[hull.vertices < len(points)]
    return points[np.sort(visible)]


def resample(points: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n of the points, without repetition where there are enough."""
    return points[rng.choice(len(points), n, replace=len(points) < n)]


def make_scan(obj: RealisticObject, setting: str, rng: np.random.Generator) -> np.ndarray:
    """A partial, noisy scan of obj in the model's frame (not yet moved)."""
    if setting not in SETTINGS:
        raise ValueError(f"argument 'setting': expected one of {SETTINGS}, got {setting!r}")
    dense = sample_surface(obj.vertices, obj.faces, SCAN_OVERSAMPLING * MODEL_POINTS, rng)
    if setting == "crop":
        part = crop_half_space(dense, rng)
    else:  # a viewpoint 3 diameters away, as a depth camera sees an object on a table
        part = hidden_point_removal(dense, 3.0 * obj.diameter * random_direction(rng))
    n = int(rng.integers(SCAN_POINTS[0], SCAN_POINTS[1] + 1))
    n_out = int(round(CLUTTER_FRACTION * n)) if setting == "clutter" else 0
    scan = resample(part, n - n_out, rng)
    scan = scan + rng.normal(scale=NOISE[setting] * obj.diameter, size=scan.shape)
    if n_out:  # clutter: uniform in the box of the object's visible part
        lo, hi = scan.min(axis=0), scan.max(axis=0)
        scan = np.vstack([scan, lo + rng.random((n_out, 3)) * (hi - lo)])
        scan = scan[rng.permutation(len(scan))]
    return scan


def make_problem(obj: RealisticObject, setting: str, trial: int, seed: int = 0) -> Problem:
    """One deterministic problem: the scan moved by a random pose G; the answer is G^-1."""
    rng = np.random.default_rng(_seed("scan", obj.name, setting, trial, seed))
    part = make_scan(obj, setting, rng)
    R = uniform_rotation(rng)
    t = random_direction(rng) * rng.uniform(0.0, MAX_TRANSLATION) * obj.diameter
    scan = part @ R.T + t
    T_true = np.eye(4)
    T_true[:3, :3], T_true[:3, 3] = R.T, -R.T @ t
    return Problem(obj.name, setting, trial, scan, T_true, obj.diameter)


def pose_errors(T_est: np.ndarray, T_true: np.ndarray, diameter: float) -> tuple[float, float]:
    """(rotation error in degrees, translation error as a fraction of the diameter).

    The translation error is that of the model's centre placed in the scan (the
    inverse poses' translations): it does not grow with the scan's offset."""
    R = T_est[:3, :3].T @ T_true[:3, :3]
    angle = np.degrees(np.arccos(np.clip((np.trace(R) - 1.0) / 2.0, -1.0, 1.0)))
    centre_est = -T_est[:3, :3].T @ T_est[:3, 3]
    centre_true = -T_true[:3, :3].T @ T_true[:3, 3]
    return float(angle), float(np.linalg.norm(centre_est - centre_true) / diameter)
