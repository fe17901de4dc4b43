"""The command-line front ends of registration, one module per ``manif-py`` subcommand,
each with a ``main(argv)`` (``manif-py register``: register_command.py, ``manif-py
demo``: demo_command.py)."""
