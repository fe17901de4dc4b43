"""Start-up cost of the package and of the commands that need no network: run in a
fresh interpreter and check which heavy modules got imported."""

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "scipy", "matplotlib")


def _modules_after(code):
    """Heavy modules present in sys.modules after running code in a fresh interpreter."""
    probe = code + f"\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_import_manif_py_loads_no_heavy_module():
    assert _modules_after("import manif_py") == []


def test_help_loads_no_heavy_module():
    code = ("from manif_py import cli\n"
            "try:\n    cli.main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0\n")
    assert _modules_after(code) == []


def test_tour_loads_no_heavy_module():
    code = "from manif_py import cli\ncli.main(['tour', '--size', '1000', '--repeats', '2', '--threads', '1'])"
    assert _modules_after(code) == []


def test_estimation_package_loads_no_torch():
    assert "torch" not in _modules_after("import manif_py.estimation")


def test_help_is_plain_text_with_exit_codes(capsys):
    from manif_py import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "exit codes:" in text
    for markup in ("``", ":func:", ":class:", ".. "):
        assert markup not in text
    for command in ("tour", "demo", "register"):
        assert command in text


def test_tour_help_describes_every_option(capsys):
    from manif_py import cli

    with pytest.raises(SystemExit):
        cli.main(["tour", "--help"])
    text = capsys.readouterr().out
    assert "best of several runs" in text
    for option in ("--threads", "--repeats", "--size"):
        assert option in text


@pytest.mark.parametrize("argv", [["tour", "--threads", "-1"], ["tour", "--threads", "two"],
                                  ["tour", "--repeats", "0"], ["tour", "--size", "0"]])
def test_tour_rejects_bad_counts_with_exit_code_2(argv, capsys):
    from manif_py import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert argv[1] in capsys.readouterr().err


def test_tour_prints_best_of_runs_timings(capsys):
    from manif_py import cli

    assert cli.main(["tour", "--size", "2000", "--repeats", "3", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "best of 3 runs" in out
    assert "ns/element" in out and "on 1 threads" in out
