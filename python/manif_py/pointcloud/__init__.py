"""Point clouds and meshes apart from any registration: the ``PointCloud`` record and its
input checks (cloud.py), file readers (readers.py) and writers (writers.py), mesh and
cloud sampling (sampling.py). numpy only (plyfile for .ply files)."""

from .cloud import PointCloud, as_points, as_rng, bbox_diagonal, check_mesh
from .readers import CLOUD_EXTENSIONS, MESH_EXTENSIONS, load_point_cloud, read_mesh, read_point_cloud
from .sampling import resample, sample_mesh
from .writers import write_obj, write_off, write_pcd, write_ply, write_stl, write_xyz

__all__ = [
    "PointCloud", "as_points", "as_rng", "bbox_diagonal", "check_mesh",
    "CLOUD_EXTENSIONS", "MESH_EXTENSIONS", "load_point_cloud", "read_mesh", "read_point_cloud",
    "resample", "sample_mesh",
    "write_obj", "write_off", "write_pcd", "write_ply", "write_stl", "write_xyz",
]
