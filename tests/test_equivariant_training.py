"""Data-parallel training: two torchrun processes (gloo) follow the same trajectory as one process."""

import os
import subprocess
import sys

import pytest
import torch

from manif_py.equivariant import train

torch.set_num_threads(1)

# float64 so that the different summation order of the all-reduce stays far below the tolerance.
ARGS = ["--tiny", "--epochs", "2", "--steps", "3", "--batch-size", "16", "--train-limit", "96", "--test-limit", "16",
        "--dtype", "float64", "--threads", "1", "--quiet", "--seed", "3"]


def _params(run_dir):
    return torch.load(os.path.join(run_dir, "checkpoint.pt"), weights_only=False)["model"]


@pytest.mark.parametrize("model", ["gl2", "cnn"])
def test_two_processes_match_one(model, tmp_path):
    one, two = str(tmp_path / "one"), str(tmp_path / "two")
    assert train.main(["--model", model, "--out", one] + ARGS) == 0
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "manif_py.equivariant.train", "--model", model, "--out", two] + ARGS
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    a, b = _params(one), _params(two)
    assert a.keys() == b.keys()
    torch.manual_seed(3)  # the initial parameters train() starts from
    start = train.make_model(train.make_config(train.parse_args(["--model", model, "--out", "x"] + ARGS)))
    moved = 0.0
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-5, rtol=0), (k, (a[k] - b[k]).abs().max())
        moved = max(moved, float((a[k] - start.state_dict()[k].to(a[k])).abs().max()))
    assert moved > 1e-4  # the runs did train (6 optimiser steps), so agreement is not trivial
