"""SE(3) diffusion point-cloud registration (Jiang et al., NeurIPS 2023).

Needs the ``[registration]`` extra (torch) for the networks; the data
generator, file readers and C++ kernels work with numpy alone.
"""


def __getattr__(name):
    # The pipeline needs torch; import it only when asked for.
    if name in ("estimate_pose", "RegistrationResult"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'manif_py.registration' has no attribute '{name}'")
