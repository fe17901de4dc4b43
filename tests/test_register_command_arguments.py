"""manif-py register refuses bad arguments before any work: exit 2 and "error: ..." naming
the option (issue 16's command-line items)."""

import pytest

from manif_py.registration.commands import register_command


@pytest.mark.parametrize("extra, message", [
    (["--json", "/nonexistent-dir/x.json"], "--json: the folder of"),
    (["--jsonl", "/nonexistent-dir/x.jsonl"], "--jsonl: the folder of"),
    (["--plot", "/nonexistent-dir/p.png"], "--plot: the folder of"),
    (["--starts", "0"], "--starts must be between 1 and 24"),
    (["--starts", "-3"], "--starts must be between 1 and 24"),
    (["--inlier-distance", "-1"], "--inlier-distance must be a finite positive"),
    (["--inlier-distance", "nan"], "--inlier-distance must be a finite positive"),
])
def test_bad_arguments_exit_2_before_the_work(extra, message, capsys):
    with pytest.raises(SystemExit) as exc:
        register_command.parse_args(["scan.ply", "model.ply"] + extra)  # the files are never read
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
