"""SE(3) diffusion point-cloud registration (Jiang et al., NeurIPS 2023).

Needs the ``[registration]`` extra (torch) for the networks; the data
generator, file readers and C++ kernels work with numpy alone.

Layout: the pipeline and its stages at this level (pipeline.py, poses.py,
preprocess.py, kernels.py), the network in model/, synthetic problems in
synthetic/, measurement in evaluation/, command-line front ends in commands/;
point-cloud files live apart, in ``manif_py.pointcloud``.
"""

import importlib

# Public name -> module that defines it, imported on first use so that
# `import manif_py.registration` stays free of torch.
_LAZY = {
    "estimate_pose": "pipeline",
    "RegistrationResult": "pipeline",
    "estimate_poses": "many_scans",
}
# The modules' names from before the regrouping, still reachable as attributes.
_MODULES = {
    "io": "manif_py.pointcloud",
    "pointcloud": "manif_py.pointcloud.cloud",
    **{m: f"manif_py.registration.model.{m}" for m in
       ("network", "diffusion", "checkpoint", "train", "procrustes_torch", "neighbourhoods")},
    **{m: f"manif_py.registration.synthetic.{m}" for m in ("shapes", "views", "dataset", "settings")},
    **{m: f"manif_py.registration.evaluation.{m}" for m in ("metrics", "baselines", "evaluate", "plots")},
    **{m: f"manif_py.registration.{m}" for m in ("kernels", "poses", "pipeline", "preprocess")},
}

__all__ = sorted(_LAZY) + sorted(_MODULES)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    if name in _MODULES:
        return importlib.import_module(_MODULES[name])
    raise AttributeError(f"module 'manif_py.registration' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | set(__all__))
