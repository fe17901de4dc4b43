"""Registration problems (source, model, ground-truth pose) for training and evaluation,
following RPM-Net's ModelNet40 protocol and the single-view setting of Jiang et al.

Settings (``SETTINGS``):

* ``clean``        the model is n_model object samples; the source is the same points
                   (same order) moved by T_gt^-1, so T_gt maps the source onto the model exactly.
* ``noisy``        source and model resampled independently from the object, each with
                   Gaussian jitter sigma 0.01 clipped to 0.05 (object diameter 1).
* ``partial``      as noisy, but each cloud is first cropped to 70% of the object samples
                   by crop_half_space with its own random direction, then resampled to
                   ceil(0.7 n) points (RPM-Net: 717 of 1,024).
* ``single_view``  the source is what a camera at a random viewpoint at distance 2 sees
                   (hidden-point removal, radius factor 100), resampled to 512 points, with jitter; the model
                   is 1,024 clean samples of the whole object (a CAD model).

Rotations: ``"45"`` (RPM-Net: Euler angles uniform in [0, 45] degrees about x, y, z)
or ``"so3"`` (Haar-uniform); a number gives that Euler limit.  Translations are uniform
in [-0.5, 0.5] per axis (half the object diameter).

Seeds: training uses seeds in ``TRAIN_SEEDS`` (0 .. 999,999), evaluation seeds in
``TEST_SEEDS`` (1,000,000 .. 1,099,999).  With ``families=None`` a seed's object family
is drawn from ``TRAIN_FAMILIES`` or ``TEST_FAMILIES`` by the side of the split it is on,
so evaluation objects come from categories never seen in training; pass
``families=TRAIN_FAMILIES`` with test seeds for a seen-category evaluation.
"""

from __future__ import annotations

import math
from typing import Dict, Iterable, List, Optional, Sequence, Union

import numpy as np

from ...pointcloud.sampling import resample
from .shapes import FAMILIES, TEST_FAMILIES, TEST_SEEDS, TRAIN_FAMILIES, TRAIN_SEEDS, make_object, split
from .views import (
    add_noise,
    crop_half_space,
    hidden_point_removal,
    random_transform,
    random_viewpoint,
)

SETTINGS = ("clean", "noisy", "partial", "single_view")
# Hidden-point removal radius for single views.  Against ray casting on the exact solids
# (tests/test_registration_views.py) 100 keeps ~88% of the visible points at ~93%
# precision; 20 drops recall to ~70%, 1000 drops precision to ~65%.
SINGLE_VIEW_RADIUS_FACTOR = 100.0
__all__ = ["SETTINGS", "TRAIN_SEEDS", "TEST_SEEDS", "TRAIN_FAMILIES", "TEST_FAMILIES", "make_pair", "make_dataset", "stack_pairs"]


def _max_angle(rotation) -> Optional[float]:
    if isinstance(rotation, str):
        if rotation.lower() == "so3":
            return None
        try:
            rotation = float(rotation)
        except ValueError:
            raise ValueError(f"'rotation' must be '45', 'so3' or a number of degrees, got {rotation!r}") from None
    if isinstance(rotation, (bool, np.bool_)) or not isinstance(rotation, (int, float, np.integer, np.floating)):
        raise TypeError(f"'rotation' must be '45', 'so3' or a number of degrees, got {type(rotation).__name__}")
    if not (0.0 <= float(rotation) <= 180.0):
        raise ValueError(f"'rotation' must be within [0, 180] degrees, got {rotation}")
    return float(rotation)


def _count(value, name, default):
    if value is None:
        return default
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 3:
        raise ValueError(f"'{name}' must be an int >= 3, got {value!r}")
    return int(value)


def _family_for(seed: int, families: Optional[Sequence[str]]) -> str:
    if families is None:
        families = TEST_FAMILIES if split(seed) == "test" else TRAIN_FAMILIES
    if isinstance(families, str):
        families = (families,)
    families = tuple(families)
    if not families or any(f not in FAMILIES for f in families):
        raise ValueError(f"'families' must be a non-empty subset of {FAMILIES}, got {families!r}")
    return families[int(np.random.default_rng((seed, 7)).integers(len(families)))]


def make_pair(
    seed: int,
    setting: str = "clean",
    rotation: Union[str, float] = "45",
    n_source: Optional[int] = None,
    n_model: Optional[int] = None,
    families: Optional[Sequence[str]] = None,
    n_object: int = 2048,
    sigma: float = 0.01,
    clip: float = 0.05,
    keep: float = 0.7,
    max_translation: float = 0.5,
) -> Dict[str, object]:
    """One registration problem, deterministic in (seed, setting, rotation, options).

    Returns a dict:
      source (Ns, 3), source_normals (Ns, 3)  the observed cloud, in its own frame
      model (Nm, 3), model_normals (Nm, 3)    the object, in the model frame
      T_gt (4, 4)   maps source into the model frame: model ~ R source + t
      diameter      1.0 (objects are normalised to bounding-box diagonal 1)
      name, family, setting, seed; viewpoint (3,) in the model frame for single_view
    Defaults: Ns = Nm = 1,024 (partial: ceil(0.7 * 1,024) = 717 each); single_view Ns = 512,
    Nm = 1,024.  n_object object samples are drawn first (RPM-Net uses ModelNet's 2,048)."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"'seed' must be an int >= 0, got {seed!r}")
    if setting not in SETTINGS:
        raise ValueError(f"'setting' must be one of {SETTINGS}, got {setting!r}")
    max_angle = _max_angle(rotation)
    if not (0.0 < keep <= 1.0):
        raise ValueError(f"'keep' must be a fraction in (0, 1], got {keep!r}")
    base = 512 if setting == "single_view" else 1024
    if setting == "partial":
        base = int(math.ceil(keep * 1024))
    n_source = _count(n_source, "n_source", base)
    n_model = _count(n_model, "n_model", 1024 if setting in ("single_view",) else base)
    family = _family_for(int(seed), families)
    obj = make_object(int(seed), family, _count(n_object, "n_object", 2048))
    rng = np.random.default_rng((int(seed), 1, SETTINGS.index(setting)))
    T = random_transform(rng, max_angle, max_translation)
    R, t = T[:3, :3], T[:3, 3]
    P, N = obj.points, obj.normals
    out: Dict[str, object] = {}

    if setting == "clean":
        im = resample(P, n_model, rng)
        model, model_n = P[im], N[im]
        src, src_n = model, model_n
    elif setting == "noisy":
        im, i_s = resample(P, n_model, rng), resample(P, n_source, rng)
        model, model_n = add_noise(P[im], rng, sigma, clip), N[im]
        src, src_n = add_noise(P[i_s], rng, sigma, clip), N[i_s]
    elif setting == "partial":
        cm, cs = crop_half_space(P, rng, keep), crop_half_space(P, rng, keep)
        im, i_s = cm[resample(P[cm], n_model, rng)], cs[resample(P[cs], n_source, rng)]
        model, model_n = add_noise(P[im], rng, sigma, clip), N[im]
        src, src_n = add_noise(P[i_s], rng, sigma, clip), N[i_s]
    else:  # single_view
        viewpoint = random_viewpoint(rng, 2.0)
        visible = hidden_point_removal(P, viewpoint, SINGLE_VIEW_RADIUS_FACTOR)
        i_s = visible[resample(P[visible], n_source, rng)]
        im = resample(P, n_model, rng)
        model, model_n = P[im], N[im]
        src, src_n = add_noise(P[i_s], rng, sigma, clip), N[i_s]
        out["viewpoint"] = viewpoint

    # the source frame: x_src = R^T (x_model - t), so R x_src + t = x_model
    out.update(
        source=(src - t) @ R,
        source_normals=src_n @ R,
        model=np.array(model, dtype=np.float64),
        model_normals=np.array(model_n, dtype=np.float64),
        T_gt=T,
        diameter=obj.diameter,
        name=obj.name,
        family=family,
        setting=setting,
        seed=int(seed),
    )
    return out


def make_dataset(seeds: Iterable[int], setting: str = "clean", rotation: Union[str, float] = "45", **kwargs) -> List[Dict[str, object]]:
    """[make_pair(seed, setting, rotation, **kwargs) for seed in seeds]: a list of
    problems, deterministic for given seeds (use seeds from TRAIN_SEEDS or TEST_SEEDS)."""
    return [make_pair(int(s), setting, rotation, **kwargs) for s in seeds]


def stack_pairs(pairs: Sequence[Dict[str, object]]) -> Dict[str, np.ndarray]:
    """Batch arrays from problems of equal sizes: source (B, Ns, 3), source_normals,
    model (B, Nm, 3), model_normals, T_gt (B, 4, 4), diameter (B,)."""
    if not pairs:
        raise ValueError("'pairs' must hold at least one problem (got an empty sequence)")
    keys = ("source", "source_normals", "model", "model_normals", "T_gt", "diameter")
    try:
        return {k: np.stack([np.asarray(p[k], dtype=np.float64) for p in pairs]) for k in keys}
    except ValueError as exc:
        raise ValueError(f"'pairs' must have equal point counts to be stacked: {exc}") from None
