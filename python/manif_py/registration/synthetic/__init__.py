"""Synthetic registration problems: procedural object families (shapes.py), views and
perturbations (views.py), the evaluation settings (settings.py) and the training
dataset (dataset.py, needs torch)."""
