"""The ``manif-py`` command."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="manif-py", description="Lie groups for robotics and 3D vision.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="tour the API on real numbers (odometry, Jacobians, interpolation, batches)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from . import tour

        tour.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
