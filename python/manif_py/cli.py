"""The ``manif-py`` command.

Each pillar owns its command-line parsing: the subcommands below forward their
arguments to a ``main(argv)`` in the pillar's package, imported only when used,
so ``manif-py --help`` and ``manif-py tour`` never pay for torch.
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

_EPILOG = """\
Each command takes --help for its own options.

exit codes:
  0  success
  1  the command failed (an error message says why)
  2  bad command line (unknown command or option, invalid value)
  register also returns 2 if any scan failed and 3 if any pose is not confident.
"""

_TOUR_DESCRIPTION = """\
A walk through the Lie group API on real numbers: SE(2) odometry with covariance
propagation through the analytic Jacobians, an SE(3) Jacobian checked against finite
differences, SE(3) interpolation and averaging, and the batched SE(3) Exp/Log on a
million elements (the best of several runs, in ns per element). Needs only numpy."""


def _thread_count(text):
    """argparse type for --threads: a count >= 0 (0: the machine-load policy)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {n}")
    return n


def build_parser():
    # RawDescriptionHelpFormatter: the texts above are plain text, printed as written.
    parser = argparse.ArgumentParser(
        prog="manif-py", description="Lie groups for robotics and 3D vision.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    tour = sub.add_parser(
        "tour", help="tour the Lie group API on real numbers (odometry, Jacobians, interpolation, batches)",
        description=_TOUR_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    tour.add_argument("--threads", type=_thread_count, default=0, metavar="N",
                      help="threads of the C++ batch pools (default 0: the cores other processes leave free)")
    tour.add_argument("--repeats", type=int, default=3, metavar="K",
                      help="runs per batch timing; the best is printed (default 3)")
    tour.add_argument("--size", type=int, default=1_000_000, metavar="N",
                      help="elements in the batch timings (default 1000000)")
    for name, (_, text) in _FORWARDED.items():
        sub.add_parser(name, help=text, add_help=False)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in _FORWARDED:
        module = importlib.import_module(_FORWARDED[argv[0]][0])
        return module.main(argv[1:]) or 0
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "tour":
        if args.repeats < 1:
            parser.error(f"--repeats: expected an integer >= 1, got {args.repeats}")
        if args.size < 1:
            parser.error(f"--size: expected an integer >= 1, got {args.size}")
        import manif_py

        manif_py.set_num_threads(args.threads)
        from . import tour

        tour.main(n=args.size, repeats=args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
