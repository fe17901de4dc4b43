"""The methods of the realistic registration benchmark, behind one interface.

Each method has ``prepare(model, diameter)`` (the model's side: downsampling,
normals, features, a trained detector; what a user can cache across scans of one
object) and ``register(scan, state) -> Outcome`` (the scan's side and the matching).
The benchmark times both, so every method reports its time with the model's
preparation included and, where the split is real, with the model cached.

Peers are set up as their documentation and tutorials do, scaled to the object:
  o3d_ransac        Open3D's global-registration tutorial, tuned as ANCHORS.md section 5
  o3d_fgr           Open3D's Fast Global Registration on the same features, same ICP
  o3d_ransac_sgicp  the same RANSAC, refined by small_gicp's GICP instead of Open3D's ICP
  cv_ppf            OpenCV's ppf_match_3d (Drost et al. 2010) as its sample sets it up
  ours              manif_py's estimate_pose (named variants pass keyword options)
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass

import numpy as np

VOXEL_DIVISOR = 30.0  # voxel = diameter / 30
THREADS = os.cpu_count() or 1


@dataclass
class Outcome:
    T: np.ndarray  # (4, 4): maps the scan into the model's frame
    confident: bool | None = None  # the method's own verdict, where it gives one
    fitness: float | None = None


class Method:
    name = "?"
    # False where the model's side is a separate, reusable step: the benchmark then
    # reports a cached-model time as well.
    prepare_is_part_of_call = False
    # False for methods whose preparation is too slow to repeat per trial (it is
    # timed once per object and added to every trial's full time).
    prepare_per_trial = True

    def prepare(self, model: np.ndarray, diameter: float):
        raise NotImplementedError

    def register(self, scan: np.ndarray, state) -> Outcome:
        raise NotImplementedError


# ----------------------------------------------------------------------------- Open3D


def _o3d():
    import open3d as o3d

    o3d.utility.set_verbosity_level(o3d.utility.VerbosityLevel.Error)
    return o3d


def _cloud(points, voxel):
    """An Open3D cloud with normals over 2 voxels (max 30 neighbours), as the tutorial does."""
    o3d = _o3d()
    pc = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.asarray(points, dtype=np.float64)))
    pc.estimate_normals(o3d.geometry.KDTreeSearchParamHybrid(radius=2 * voxel, max_nn=30))
    return pc


def _features(points, voxel):
    """(full cloud with normals, downsampled cloud with normals, its FPFH over 5 voxels, max 100)."""
    o3d = _o3d()
    full = _cloud(points, voxel)
    down = full.voxel_down_sample(voxel)
    down.estimate_normals(o3d.geometry.KDTreeSearchParamHybrid(radius=2 * voxel, max_nn=30))
    fpfh = o3d.pipelines.registration.compute_fpfh_feature(
        down, o3d.geometry.KDTreeSearchParamHybrid(radius=5 * voxel, max_nn=100))
    return full, down, fpfh


@dataclass
class O3DModel:
    voxel: float
    full: object
    down: object
    fpfh: object


class O3DRansac(Method):
    """RANSAC over mutual FPFH matches, then point-to-plane ICP at 1.5 and 0.5 voxels on the full clouds."""

    name = "o3d_ransac"

    def __init__(self, seed: int = 0):
        self.seed = seed

    def prepare(self, model, diameter):
        voxel = diameter / VOXEL_DIVISOR
        return O3DModel(voxel, *_features(model, voxel))

    def global_pose(self, src_down, src_fpfh, m: O3DModel) -> np.ndarray:
        o3d = _o3d()
        reg = o3d.pipelines.registration
        o3d.utility.random.seed(self.seed)  # fixed, yet multi-threaded RANSAC stays nondeterministic
        result = reg.registration_ransac_based_on_feature_matching(
            src_down, m.down, src_fpfh, m.fpfh, True, 1.5 * m.voxel,
            reg.TransformationEstimationPointToPoint(False), 3,
            [reg.CorrespondenceCheckerBasedOnEdgeLength(0.9), reg.CorrespondenceCheckerBasedOnDistance(1.5 * m.voxel)],
            reg.RANSACConvergenceCriteria(100_000, 0.999))
        return np.asarray(result.transformation)

    def refine(self, src_full, m: O3DModel, T) -> Outcome:
        reg = _o3d().pipelines.registration
        for stage in (1.5, 0.5):
            result = reg.registration_icp(src_full, m.full, stage * m.voxel, T,
                                          reg.TransformationEstimationPointToPlane())
            T = result.transformation
        return Outcome(np.asarray(T), fitness=float(result.fitness))

    def register(self, scan, m: O3DModel) -> Outcome:
        src_full, src_down, src_fpfh = _features(scan, m.voxel)
        return self.refine(src_full, m, self.global_pose(src_down, src_fpfh, m))


class O3DFgr(O3DRansac):
    """Fast Global Registration (Zhou et al. 2016) on the same features, then the same ICP."""

    name = "o3d_fgr"

    def global_pose(self, src_down, src_fpfh, m: O3DModel) -> np.ndarray:
        reg = _o3d().pipelines.registration
        result = reg.registration_fgr_based_on_feature_matching(
            src_down, m.down, src_fpfh, m.fpfh,
            reg.FastGlobalRegistrationOption(maximum_correspondence_distance=0.5 * m.voxel))
        return np.asarray(result.transformation)


# ----------------------------------------------------------------------------- small_gicp


@dataclass
class SGicpModel:
    o3d_model: O3DModel
    target: object  # small_gicp.PointCloud with covariances
    tree: object


class O3DRansacSmallGicp(O3DRansac):
    """The tuned RANSAC's global pose, refined by small_gicp GICP (1.5 then 0.5 voxels)."""

    name = "o3d_ransac_sgicp"

    def prepare(self, model, diameter):
        import small_gicp

        m = super().prepare(model, diameter)
        # Downsampled at half a voxel: GICP's covariances want a few neighbours per voxel.
        target, tree = small_gicp.preprocess_points(np.asarray(model, np.float64), 0.5 * m.voxel,
                                                    num_threads=THREADS)
        return SGicpModel(m, target, tree)

    def register(self, scan, s: SGicpModel) -> Outcome:
        import small_gicp

        m = s.o3d_model
        _, src_down, src_fpfh = _features(scan, m.voxel)
        T = self.global_pose(src_down, src_fpfh, m)
        source, _ = small_gicp.preprocess_points(np.asarray(scan, np.float64), 0.5 * m.voxel, num_threads=THREADS)
        for stage in (1.5, 0.5):
            result = small_gicp.align(s.target, source, s.tree, init_T_target_source=T, registration_type="GICP",
                                      max_correspondence_distance=stage * m.voxel, num_threads=THREADS)
            T = result.T_target_source
        return Outcome(np.asarray(T), fitness=float(result.num_inliers) / max(source.size(), 1))


# ----------------------------------------------------------------------------- OpenCV PPF

# The sample's values (samples/cpp/ppf_load_match.cpp) except the training step:
# 0.025 there; training grows with the fourth power of 1 / step (19.6 s at 0.05 and
# 124 s at 0.04 on one 10k-point object, measured here), so 0.05 keeps three objects
# within minutes.
PPF_TRAIN_STEP = 0.05
PPF_TRAIN_DISTANCE_STEP = 0.05
PPF_SCENE_SAMPLE_STEP = 1.0 / 40.0
PPF_SCENE_DISTANCE = 0.05
PPF_ICP_ITERATIONS, PPF_ICP_TOLERANCE, PPF_ICP_REJECTION, PPF_ICP_LEVELS = 100, 0.005, 2.5, 8
PPF_REFINED = 2  # the sample refines the first N = 2 poses


def _normals_cv(points):
    """Nx6 float32 (points, normals) by OpenCV's plane fit over 6 neighbours, as the sample does."""
    import cv2

    _, pc = cv2.ppf_match_3d.computeNormalsPC3d(np.ascontiguousarray(points, np.float32), 6, False, (0.0, 0.0, 0.0))
    return pc


class OpenCVPPF(Method):
    """cv2.ppf_match_3d: point-pair-feature voting, then OpenCV's ICP on the best poses."""

    name = "cv_ppf"
    prepare_per_trial = False

    def prepare(self, model, diameter):
        import cv2

        pc = _normals_cv(model)
        detector = cv2.ppf_match_3d.PPF3DDetector(PPF_TRAIN_STEP, PPF_TRAIN_DISTANCE_STEP)
        detector.trainModel(pc)
        return detector, pc

    def register(self, scan, state) -> Outcome:
        import cv2

        detector, model_pc = state
        scene = _normals_cv(scan)
        results = detector.match(scene, PPF_SCENE_SAMPLE_STEP, PPF_SCENE_DISTANCE)
        if not results:
            return Outcome(np.eye(4))
        icp = cv2.ppf_match_3d.ICP(PPF_ICP_ITERATIONS, PPF_ICP_TOLERANCE, PPF_ICP_REJECTION, PPF_ICP_LEVELS)
        _, refined = icp.registerModelToScene(model_pc, scene, list(results[:PPF_REFINED]))
        best = min(refined, key=lambda r: r.residual)
        return Outcome(np.linalg.inv(np.asarray(best.pose, dtype=np.float64)))  # its pose maps model -> scene


# ----------------------------------------------------------------------------- ours


def _registration_api():
    from manif_py.registration import pipeline

    return pipeline


class Ours(Method):
    """manif_py's public estimate_pose, with prepare_model where the pipeline has it.

    options: keyword arguments of estimate_pose for a named variant (an ablation);
    an option estimate_pose does not accept is an error, not silently dropped."""

    def __init__(self, name: str = "ours", options: dict | None = None):
        self.name = name
        self.options = dict(options or {})
        api = _registration_api()
        self.estimate_pose = api.estimate_pose
        self.prepare_model = getattr(api, "prepare_model", None)
        self.prepare_is_part_of_call = self.prepare_model is None
        params = inspect.signature(self.estimate_pose).parameters
        unknown = sorted(set(self.options) - set(params))
        if unknown and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            raise ValueError(f"variant {name!r}: estimate_pose accepts no option {unknown}; "
                             f"it accepts {sorted(k for k in params if k not in ('source', 'model'))}")
        # Where the prepared model goes: a named keyword if estimate_pose has one, else in the model's place.
        self.prepared_keyword = next((k for k in ("prepared", "prepared_model", "model_cache") if k in params), None)

    def prepare(self, model, diameter):
        if self.prepare_model is None:
            return model
        return model, self.prepare_model(model)

    def register(self, scan, state) -> Outcome:
        if self.prepare_model is None:
            result = self.estimate_pose(scan, state, **self.options)
        elif self.prepared_keyword:
            model, prepared = state
            result = self.estimate_pose(scan, model, **{self.prepared_keyword: prepared}, **self.options)
        else:
            result = self.estimate_pose(scan, state[1], **self.options)
        return Outcome(np.asarray(result.transformation, dtype=np.float64), bool(result.confident),
                       float(getattr(result, "fitness", np.nan)))


PEERS = {"o3d_ransac": O3DRansac, "o3d_fgr": O3DFgr, "o3d_ransac_sgicp": O3DRansacSmallGicp, "cv_ppf": OpenCVPPF}
ALL_METHODS = ("ours", *PEERS)


def parse_variants(text: str) -> dict:
    """'name:key=value,key=value;name2:key=value' -> {name: {key: value}} (values as Python literals)."""
    import ast

    variants = {}
    for item in filter(None, (s.strip() for s in text.split(";"))):
        name, _, body = item.partition(":")
        if not name or not body:
            raise ValueError(f"argument '--variants': expected 'name:key=value,...', got {item!r}")
        options = {}
        for pair in body.split(","):
            key, eq, value = pair.partition("=")
            if not eq or not key.strip().isidentifier():
                raise ValueError(f"argument '--variants': expected key=value in {item!r}, got {pair!r}")
            try:
                options[key.strip()] = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError):
                options[key.strip()] = value.strip()  # a bare word is a string option
        variants[name.strip()] = options
    return variants


def make_methods(names, variants: dict, seed: int = 0) -> list:
    """The Method objects for the names of ALL_METHODS plus one 'ours' per named variant."""
    methods = []
    for name in names:
        if name == "ours":
            methods.append(Ours())
        elif name in PEERS:
            methods.append(PEERS[name](seed) if name != "cv_ppf" else PEERS[name]())
        else:
            raise ValueError(f"argument '--methods': unknown method {name!r}; expected some of {ALL_METHODS}")
    methods += [Ours(f"ours[{v}]", opts) for v, opts in variants.items()]
    return methods
