"""The ``manif-py`` command.

Each pillar owns its command-line parsing: the subcommands below forward their
arguments to a ``main(argv)`` in the pillar's package, imported only when used,
so ``manif-py tour`` never pays for torch.
"""

import argparse
import importlib
import sys

# subcommand -> (module, help). The module's main(argv) parses the rest.
_FORWARDED = {
    "demo": ("manif_py.registration.commands.demo_command", "estimate the pose of a generated object from a partial scan (needs [registration])"),
    "train-equivariant": ("manif_py.equivariant.train", "train affine-equivariant digit classifiers (needs [equivariant])"),
    "evaluate-equivariant": ("manif_py.equivariant.evaluate", "evaluate equivariant classifiers on affNIST-like test sets"),
    "register": ("manif_py.registration.commands.register_command", "estimate the 6D pose of a scan against an object model"),
    "train-registration": ("manif_py.registration.model.train", "train the SE(3) diffusion registration network"),
    "evaluate-registration": ("manif_py.registration.evaluation.evaluate", "evaluate registration against classical baselines"),
}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="manif-py", description="Lie groups for robotics and 3D vision.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("tour", help="tour the Lie group API on real numbers (odometry, Jacobians, interpolation, batches)")
    for name, (_, text) in _FORWARDED.items():
        sub.add_parser(name, help=text, add_help=False)
    if argv and argv[0] in _FORWARDED:
        module = importlib.import_module(_FORWARDED[argv[0]][0])
        return module.main(argv[1:]) or 0
    args = parser.parse_args(argv)
    if args.command == "tour":
        from . import tour

        tour.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
