"""SE(3) diffusion point-cloud registration (Jiang et al., NeurIPS 2023).

Needs the ``[registration]`` extra (torch) for the networks; the data
generator, file readers and C++ kernels work with numpy alone.
"""
