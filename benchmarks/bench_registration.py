"""Registration benchmark: our networks against Open3D's pipelines, one run, same inputs.

    bash benchmarks/setup_peers.sh          # once: the venv with open3d (and libusb)
    .bench-venv/main/bin/python benchmarks/bench_registration.py --pairs 50

Runs ``manif-py evaluate-registration`` with the two shipped networks (the
diffusion-trained one and the same network trained one-shot) on every setting,
and writes benchmarks/out/registration/{metrics.json, results.md, recall.png}.
"""

import sys

from manif_py.registration.model import checkpoint
from manif_py.registration.evaluation import evaluate


def main(argv=None):
    args = ["--checkpoint", checkpoint.default_checkpoint_path(),
            "--one-shot-checkpoint", checkpoint.one_shot_checkpoint_path(),
            "--out", "benchmarks/out/registration"]
    return evaluate.main(args + list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
