"""On-manifold estimation on the manif_py groups.

- :class:`FactorGraph`: sparse nonlinear least squares (Gauss-Newton, Levenberg-Marquardt,
  Huber / Cauchy losses) over SO2, SE2, SO3, SE3, R1..R6, SE23, SGal3 and Sim3 variables, with built-in prior,
  between, point and range-bearing factors evaluated in C++, custom Python factors, and
  marginal covariances.
- :func:`read_g2o`, :func:`read_toro`, :func:`write_g2o`: pose-graph files.
- :class:`ErrorStateKalmanFilter` (error-state EKF on any group) and :class:`Uncertain` /
  :func:`local_to_global` / :func:`propagate`: covariance propagation on the manifold.
"""

from .covariance import Uncertain, global_to_local, local_to_global, propagate
from .dataset import PoseGraphData
from .graph import FactorGraph, SolveResult, Values
from .imu import PreintegratedImu, preintegrate_imu
from .kalman import ErrorStateKalmanFilter
from .readers import read_g2o, read_graph, read_toro
from .sim3_g2o import read_sim3_g2o, write_sim3_g2o
from .writer import write_g2o

__all__ = [
    "FactorGraph", "SolveResult", "Values", "PoseGraphData", "read_g2o", "read_graph", "read_toro", "write_g2o", "read_sim3_g2o", "write_sim3_g2o",
    "ErrorStateKalmanFilter", "PreintegratedImu", "preintegrate_imu", "Uncertain", "local_to_global", "global_to_local", "propagate",
]
