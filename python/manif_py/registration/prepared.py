"""Model preparation, done once per object and cacheable: ``prepare_model``.

    prepared = prepare_model(model_points)
    prepared.save("gear.npz"); prepared = PreparedModel.load("gear.npz", model_points)

What every later stage needs from the model: its diameter, normals on the full
cloud (fine ICP, verification), a voxel pyramid with normals (coarse ICP, the
global stage), and the point-pair-feature hash table of the global stage. The
kd-trees are rebuilt by the C++ kernels per call (they are fast to build and not
serialisable); everything slower is here.

The cache is a plain .npz read with allow_pickle=False, with a format version and
a fingerprint of the model's points, so that a cache of another object or of an
older format is refused rather than silently used.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np

from .preprocess import check_cloud, diameter, unoriented_normals

FORMAT_VERSION = 1
# Voxel sizes of the pyramid as fractions of the diameter: the global stage works
# on the coarsest, coarse ICP on the middle one.
PYRAMID_FRACTIONS = (1 / 20, 1 / 40)
# Point-pair features are quantised in steps of this fraction of the diameter
# (distance) and this many bins over [0, pi] (angles), as Drost et al. 2010.
PPF_DISTANCE_STEP = 1 / 20
PPF_ANGLE_BINS = 30


def fingerprint(points: np.ndarray) -> str:
    """SHA-256 of the model's float64 coordinates: which object a cache belongs to."""
    return hashlib.sha256(np.ascontiguousarray(points, dtype=np.float64).tobytes()).hexdigest()


def voxel_downsample(points: np.ndarray, voxel: float) -> np.ndarray:
    """Centroid of the points in each occupied voxel, in a deterministic (sorted-key) order."""
    keys = np.floor((points - points.min(axis=0)) / voxel).astype(np.int64)
    _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    sums = np.zeros((len(counts), 3))
    np.add.at(sums, inverse, points)
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
    ppf_keys: np.ndarray  # (P,) int64 sorted quantised features of model point pairs (coarsest level)
    ppf_ref: np.ndarray  # (P,) int32 reference point index of each pair (coarsest level)
    ppf_alpha: np.ndarray  # (P,) float64 the pair's angle about the reference normal (Drost's alpha_m)
    fingerprint: str
    _offsets: np.ndarray | None = None

    @property
    def ppf_offsets(self):
        """(TABLE_SIZE + 1,) start of each key's run in ppf_keys (built on first use, not stored)."""
        if self._offsets is None:
            from .global_hypotheses import TABLE_SIZE
            self._offsets = np.searchsorted(self.ppf_keys, np.arange(TABLE_SIZE + 1)).astype(np.int64)
        return self._offsets

    @property
    def global_points(self):
        return self.levels[0][0]

    @property
    def global_normals(self):
        return self.levels[0][1]

    def save(self, path) -> None:
        arrays = {"format_version": np.int64(FORMAT_VERSION), "fingerprint": np.array(self.fingerprint),
                  "points": self.points, "normals": self.normals, "diameter": np.float64(self.diameter),
                  "n_levels": np.int64(len(self.levels)), "level_voxels": self.level_voxels, "ppf_keys": self.ppf_keys, "ppf_ref": self.ppf_ref,
                  "ppf_alpha": self.ppf_alpha}
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
        keys, ref, alpha = need("ppf_keys", 1, "i"), need("ppf_ref", 1, "iu"), need("ppf_alpha", 1, "f")
        if not (len(keys) == len(ref) == len(alpha)):
            raise ValueError(f"model cache '{name}': PPF table arrays differ in length")
        if len(ref) and (ref.min() < 0 or ref.max() >= len(levels[0][0])):
            raise ValueError(f"model cache '{name}': PPF reference indices out of range")
        if len(keys) > 1 and np.any(np.diff(keys) < 0):
            raise ValueError(f"model cache '{name}': PPF keys are not sorted")
        return cls(points.astype(np.float64), normals.astype(np.float64), float(need("diameter", 0, "f")),
                   levels, voxels.astype(np.float64), keys.astype(np.int64), ref.astype(np.int32), alpha.astype(np.float64), fp)


def prepare_model(model_points, *, pyramid_fractions=PYRAMID_FRACTIONS) -> PreparedModel:
    """Everything the registration stages need from ``model_points`` ((M, 3)), computed once."""
    from .global_hypotheses import model_pair_table  # the table's layout belongs to the global stage

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
    keys, ref, alpha = model_pair_table(levels[0][0], levels[0][1], size)
    return PreparedModel(model, normals_of(model), size, levels, voxels, keys, ref, alpha, fingerprint(model))


def load_or_prepare(model_points, cache_path=None) -> PreparedModel:
    """The cache at ``cache_path`` if present (checked against the model), else prepared and saved there."""
    if cache_path is None:
        return prepare_model(model_points)
    if os.path.exists(cache_path):
        return PreparedModel.load(cache_path, model_points)
    prepared = prepare_model(model_points)
    prepared.save(cache_path)
    return prepared
