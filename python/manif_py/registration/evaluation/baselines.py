"""The classical pipelines a user would otherwise pick, through Open3D.

Open3D is not a dependency of manif_py (its wheel is 400 MB and needs the
system library libusb-1.0); it is imported here only when a baseline runs, as
the evaluation does. Parameters follow Open3D's own registration tutorial,
scaled by the model's diameter D: voxel v = D / 20, normals over 2v, FPFH over
5v, RANSAC inlier distance 1.5v with 100,000 iterations at confidence 0.999,
FGR at 0.5v, ICP two-stage (0.1 D then 0.02 D) from the given start.
"""

from __future__ import annotations

import numpy as np

# The voxel size sets every scale of the feature pipelines. Open3D's tutorial
# uses D/40 for dense scans; on clouds of about 1,000 points that is below the
# point spacing (about D/25) and starves the normals and FPFH of neighbours.
# Of D/40, D/20 and D/12 (8 noisy and 8 partial problems over SO(3) each),
# D/20 gave RANSAC + FPFH + ICP its best recall, so the baselines use it.
VOXELS_PER_DIAMETER = 20

BASELINES = ("icp_point_to_point", "icp_point_to_plane", "ransac_fpfh", "ransac_fpfh_icp", "fgr_icp")


def _o3d():
    try:
        import open3d as o3d
    except Exception as exc:  # ImportError, or OSError for a missing libusb
        raise ImportError("the classical baselines need Open3D: pip install open3d (and, on Debian, "
                          "apt-get install libusb-1.0-0)") from exc
    return o3d


def _cloud(points, radius):
    o3d = _o3d()
    pc = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.asarray(points, dtype=np.float64)))
    pc.estimate_normals(o3d.geometry.KDTreeSearchParamHybrid(radius=radius, max_nn=30))
    return pc


def _fpfh(pc, radius):
    o3d = _o3d()
    return o3d.pipelines.registration.compute_fpfh_feature(pc, o3d.geometry.KDTreeSearchParamHybrid(radius=radius, max_nn=100))


def _icp(src, tgt, init, diameter, plane=True):
    o3d = _o3d()
    reg = o3d.pipelines.registration
    method = reg.TransformationEstimationPointToPlane() if plane else reg.TransformationEstimationPointToPoint()
    T = init
    for dist in (0.1 * diameter, 0.02 * diameter):
        T = reg.registration_icp(src, tgt, dist, T, method, reg.ICPConvergenceCriteria(max_iteration=30)).transformation
    return np.asarray(T)


def run(name: str, source: np.ndarray, model: np.ndarray, diameter: float, seed: int = 0) -> np.ndarray:
    """The 4x4 pose (model ~ R source + t) found by the named baseline."""
    o3d = _o3d()
    reg = o3d.pipelines.registration
    o3d.utility.random.seed(seed)
    voxel = diameter / VOXELS_PER_DIAMETER
    src = _cloud(source, 2 * voxel)
    tgt = _cloud(model, 2 * voxel)
    eye = np.eye(4)
    if name == "icp_point_to_point":
        return _icp(src, tgt, eye, diameter, plane=False)
    if name == "icp_point_to_plane":
        return _icp(src, tgt, eye, diameter, plane=True)
    src_d, tgt_d = src.voxel_down_sample(voxel), tgt.voxel_down_sample(voxel)
    src_d.estimate_normals(o3d.geometry.KDTreeSearchParamHybrid(radius=2 * voxel, max_nn=30))
    tgt_d.estimate_normals(o3d.geometry.KDTreeSearchParamHybrid(radius=2 * voxel, max_nn=30))
    fs, ft = _fpfh(src_d, 5 * voxel), _fpfh(tgt_d, 5 * voxel)
    if name in ("ransac_fpfh", "ransac_fpfh_icp"):
        dist = 1.5 * voxel
        result = reg.registration_ransac_based_on_feature_matching(
            src_d, tgt_d, fs, ft, True, dist, reg.TransformationEstimationPointToPoint(False), 3,
            [reg.CorrespondenceCheckerBasedOnEdgeLength(0.9), reg.CorrespondenceCheckerBasedOnDistance(dist)],
            reg.RANSACConvergenceCriteria(100000, 0.999))
        T = np.asarray(result.transformation)
        return _icp(src, tgt, T, diameter) if name == "ransac_fpfh_icp" else T
    if name == "fgr_icp":
        result = reg.registration_fgr_based_on_feature_matching(
            src_d, tgt_d, fs, ft, reg.FastGlobalRegistrationOption(maximum_correspondence_distance=0.5 * voxel))
        return _icp(src, tgt, np.asarray(result.transformation), diameter)
    raise ValueError(f"unknown baseline '{name}'; choose from {BASELINES}")
