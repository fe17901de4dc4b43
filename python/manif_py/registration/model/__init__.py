"""The surrogate network and its diffusion: the network (network.py) with its torch
neighbourhoods and differentiable Procrustes, the SE(3) diffusion's training objective
and reverse process (diffusion.py), checkpoints (checkpoint.py, the shipped ones in
data/) and training (train.py). Needs torch."""
