"""Model preparation, done once per object and cacheable: ``prepare_model``.

    prepared = prepare_model(model_points)
    prepared.save("gear.npz"); prepared = PreparedModel.load("gear.npz", model_points)

What every later stage needs from the model: its diameter, normals on the full
cloud (fine ICP, verification), a voxel pyramid with normals (coarse ICP, the
global stage), the point-pair-feature table of the global stage (built by the
C++ ``ppf_model_table``), and for each model point its nearest coarsest-level
point (verification's coverage). Everything that depends on the model alone is
computed here once.

The cache is a plain .npz read with allow_pickle=False, with a format version and
a fingerprint of the model's points, so that a cache of another object or of an
older format is refused rather than silently used; every array's shape, dtype
and range is checked before the C++ reads through it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

import numpy as np

from .. import _registration as _C
from .preprocess import check_cloud, diameter, unoriented_normals

# 2: the PPF table as the C++ CSR (offsets, ref, alpha) and the coarse index of each model point.
FORMAT_VERSION = 2
# Voxel sizes of the pyramid as fractions of the diameter: the global stage works
# on the coarsest, coarse ICP on the middle one.
PYRAMID_FRACTIONS = (1 / 20, 1 / 40)
# Point-pair features are quantised in steps of this fraction of the diameter
# (distance) and this many bins over [0, pi] (angles), as Drost et al. 2010.
PPF_DISTANCE_STEP = 1 / 20
PPF_ANGLE_BINS = 30
# Pair distances are at most the diameter: this many distance bins.
PPF_DISTANCE_BINS = int(np.ceil(1 / PPF_DISTANCE_STEP)) + 1
PPF_TABLE_SIZE = PPF_DISTANCE_BINS * (PPF_ANGLE_BINS + 1) ** 3


def fingerprint(points: np.ndarray) -> str:
    """SHA-256 of the model's float64 coordinates: which object a cache belongs to."""
    return hashlib.sha256(np.ascontiguousarray(points, dtype=np.float64).tobytes()).hexdigest()


def voxel_downsample(points: np.ndarray, voxel: float) -> np.ndarray:
    """Centroid of the points in each occupied voxel, in a deterministic (sorted-key) order."""
    keys = np.floor((points - points.min(axis=0)) / voxel).astype(np.int64)
    # One integer per voxel, ordered as the (x, y, z) rows sort: a 1-d unique is many times faster.
    span = keys.max(axis=0) + 1
    flat = (keys[:, 0] * span[1] + keys[:, 1]) * span[2] + keys[:, 2]
    _, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    sums = np.stack([np.bincount(inverse, weights=points[:, c], minlength=len(counts)) for c in range(3)], axis=1)
    return sums / counts[:, None]


def normals_of(points: np.ndarray) -> np.ndarray:
    """PCA normals facing away from the centroid (the same rule for scan and model)."""
    return unoriented_normals(points, k=min(16, len(points)))


@dataclass
class PreparedModel:
    points: np.ndarray  # (M, 3) the model as given
    normals: np.ndarray  # (M, 3)
    diameter: float
    levels: list  # [(points (m, 3), normals (m, 3))] coarse first
    level_voxels: np.ndarray  # (L,) the voxel size of each level, coarse first
    ppf_offsets: np.ndarray  # (PPF_TABLE_SIZE + 1,) int64: pairs with key k are ppf_offsets[k]:ppf_offsets[k+1]
    ppf_ref: np.ndarray  # (P,) int32 reference point index of each pair (coarsest level)
    ppf_alpha: np.ndarray  # (P,) float64 the pair's angle about the reference normal (Drost's alpha_m)
    coarse_index: np.ndarray  # (M,) int64 nearest coarsest-level point of each model point
    fingerprint: str
    # kd-trees (C++ CloudIndex) of the full cloud and the levels, built on first use and kept:
    # every scan's ICP and verification reuse them. Not saved (rebuilt in milliseconds).
    _indices: dict = field(default_factory=dict, repr=False, compare=False)

    def index(self, level: int | None = None):
        """The kd-tree of the full model (``level=None``) or of pyramid level ``level``, with normals."""
        if level not in self._indices:
            points, normals = (self.points, self.normals) if level is None else self.levels[level]
            self._indices[level] = _C.CloudIndex(points, normals)
        return self._indices[level]

    @property
    def global_points(self):
        return self.levels[0][0]

    @property
    def global_normals(self):
        return self.levels[0][1]

    def save(self, path) -> None:
        arrays = {"format_version": np.int64(FORMAT_VERSION), "fingerprint": np.array(self.fingerprint),
                  "points": self.points, "normals": self.normals, "diameter": np.float64(self.diameter),
                  "n_levels": np.int64(len(self.levels)), "level_voxels": self.level_voxels, "ppf_offsets": self.ppf_offsets,
                  "ppf_ref": self.ppf_ref, "ppf_alpha": self.ppf_alpha, "coarse_index": self.coarse_index}
        for i, (p, n) in enumerate(self.levels):
            arrays[f"level{i}_points"], arrays[f"level{i}_normals"] = p, n
        tmp = f"{os.fspath(path)}.tmp.npz"
        np.savez(tmp, **arrays)  # written aside then renamed: no half-written cache on a crash
        os.replace(tmp, path)

    @classmethod
    def load(cls, path, model_points=None) -> "PreparedModel":
        """Read a cache written by :meth:`save`; with ``model_points``, refuse a cache of another model."""
        name = os.fspath(path)
        try:
            with np.load(name, allow_pickle=False) as f:
                data = {k: f[k] for k in f.files}
        except (OSError, ValueError, EOFError) as exc:
            raise ValueError(f"model cache '{name}' is not a readable .npz file: {exc}") from exc
        except Exception as exc:  # zipfile.BadZipFile and friends on corrupt files
            raise ValueError(f"model cache '{name}' is corrupt: {exc}") from exc

        def need(key, ndim=None, dtype_kind=None):
            if key not in data:
                raise ValueError(f"model cache '{name}' lacks '{key}'; rebuild it")
            a = data[key]
            if ndim is not None and a.ndim != ndim:
                raise ValueError(f"model cache '{name}': '{key}' has {a.ndim} dimensions, expected {ndim}")
            if dtype_kind is not None and a.dtype.kind not in dtype_kind:
                raise ValueError(f"model cache '{name}': '{key}' has dtype {a.dtype}")
            return a

        version = int(need("format_version", 0, "iu"))
        if version != FORMAT_VERSION:
            raise ValueError(f"model cache '{name}' has format version {version}, this version reads "
                             f"{FORMAT_VERSION}; rebuild it")
        fp = str(need("fingerprint", 0, "U"))
        points = need("points", 2, "f")
        if points.shape[1:] != (3,) or not np.isfinite(points).all():
            raise ValueError(f"model cache '{name}': 'points' must be finite (M, 3), got {points.shape}")
        if fingerprint(points) != fp:
            raise ValueError(f"model cache '{name}' is corrupt: its points do not match its fingerprint")
        if model_points is not None and fingerprint(check_cloud(model_points, "model")) != fp:
            raise ValueError(f"model cache '{name}' was built for another model (fingerprint differs); "
                             "delete it or pass the model it was built from")
        normals = need("normals", 2, "f")
        if normals.shape != points.shape:
            raise ValueError(f"model cache '{name}': 'normals' {normals.shape} does not match 'points'")
        n_levels = int(need("n_levels", 0, "iu"))
        if not 1 <= n_levels <= 8:
            raise ValueError(f"model cache '{name}': n_levels {n_levels} outside [1, 8]")
        levels = []
        for i in range(n_levels):
            p, n = need(f"level{i}_points", 2, "f"), need(f"level{i}_normals", 2, "f")
            if p.shape[1:] != (3,) or n.shape != p.shape or not (np.isfinite(p).all() and np.isfinite(n).all()):
                raise ValueError(f"model cache '{name}': level {i} has malformed points/normals")
            levels.append((p.astype(np.float64), n.astype(np.float64)))
        voxels = need("level_voxels", 1, "f")
        if voxels.shape != (n_levels,) or not (np.isfinite(voxels).all() and (voxels > 0).all()):
            raise ValueError(f"model cache '{name}': 'level_voxels' must be {n_levels} positive sizes")
        offsets, ref, alpha = need("ppf_offsets", 1, "iu"), need("ppf_ref", 1, "iu"), need("ppf_alpha", 1, "f")
        m = len(levels[0][0])
        if offsets.shape != (PPF_TABLE_SIZE + 1,):
            raise ValueError(f"model cache '{name}': 'ppf_offsets' has shape {offsets.shape}, expected "
                             f"({PPF_TABLE_SIZE + 1},)")
        if not len(ref) == len(alpha) <= m * (m - 1):
            raise ValueError(f"model cache '{name}': PPF table has {len(ref)} references and {len(alpha)} angles, "
                             f"expected one length, at most {m * (m - 1)} (the ordered pairs of {m} points)")
        if offsets[0] != 0 or offsets[-1] != len(ref) or np.any(np.diff(offsets) < 0):
            raise ValueError(f"model cache '{name}': 'ppf_offsets' must rise from 0 to {len(ref)}")
        if len(ref) and (ref.min() < 0 or ref.max() >= m):
            raise ValueError(f"model cache '{name}': PPF reference indices out of range [0, {m})")
        if not np.isfinite(alpha).all():
            raise ValueError(f"model cache '{name}': 'ppf_alpha' has NaN or inf")
        coarse_index = need("coarse_index", 1, "iu")
        if coarse_index.shape != (len(points),) or (len(coarse_index) and (coarse_index.min() < 0
                                                                           or coarse_index.max() >= m)):
            raise ValueError(f"model cache '{name}': 'coarse_index' must be ({len(points)},) indices in [0, {m})")
        return cls(points.astype(np.float64), normals.astype(np.float64), float(need("diameter", 0, "f")),
                   levels, voxels.astype(np.float64), offsets.astype(np.int64), ref.astype(np.int32),
                   alpha.astype(np.float64), coarse_index.astype(np.int64), fp)


def prepare_model(model_points, *, pyramid_fractions=PYRAMID_FRACTIONS) -> PreparedModel:
    """Everything the registration stages need from ``model_points`` ((M, 3)), computed once."""
    model = check_cloud(model_points, "model_points")
    size = diameter(model)
    if size <= 0:
        raise ValueError("argument 'model_points': all points coincide")
    fracs = tuple(float(f) for f in pyramid_fractions)
    if not fracs or any(not 0 < f < 1 for f in fracs):
        raise ValueError(f"argument 'pyramid_fractions' must be fractions in (0, 1), got {pyramid_fractions}")
    levels = []
    voxels = np.array(sorted(fracs, reverse=True)) * size  # coarse first
    for v in voxels:
        p = voxel_downsample(model, v)
        levels.append((p, normals_of(p)))
    table = _C.ppf_model_table(levels[0][0], levels[0][1], distance_step=PPF_DISTANCE_STEP * size,
                               distance_bins=PPF_DISTANCE_BINS, angle_bins=PPF_ANGLE_BINS)
    coarse_index = _C.knn(model, levels[0][0], 1)[0][:, 0]
    return PreparedModel(model, normals_of(model), size, levels, voxels, table["offsets"], table["ref"],
                         table["alpha"], coarse_index, fingerprint(model))


def load_or_prepare(model_points, cache_path=None) -> PreparedModel:
    """The cache at ``cache_path`` if present (checked against the model), else prepared and saved there."""
    if cache_path is None:
        return prepare_model(model_points)
    if os.path.exists(cache_path):
        return PreparedModel.load(cache_path, model_points)
    prepared = prepare_model(model_points)
    prepared.save(cache_path)
    return prepared
