"""Registration benchmark: our networks against Open3D's pipelines, one run, same inputs.

    bash benchmarks/setup_peers.sh          # once: the venv with open3d (and libusb)
    .bench-venv/main/bin/python benchmarks/bench_registration.py --pairs 50

Runs ``manif-py evaluate-registration`` with the two shipped networks (the
diffusion-trained one and the same network trained one-shot) on every setting,
and writes benchmarks/out/registration/{metrics.json, results.md, recall.png}.
"""

import sys
from importlib import resources

from manif_py.registration import evaluate


def main(argv=None):
    data = resources.files("manif_py.registration").joinpath("data")
    args = ["--checkpoint", str(data / "default_checkpoint.pt"),
            "--one-shot-checkpoint", str(data / "one_shot_checkpoint.pt"),
            "--out", "benchmarks/out/registration"]
    return evaluate.main(args + list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
