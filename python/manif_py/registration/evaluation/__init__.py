"""Measuring registration: error metrics (metrics.py), the Open3D baselines
(baselines.py), the evaluation run behind ``manif-py evaluate-registration``
(evaluate.py) and pictures (plots.py)."""
