"""Many scans of one model: estimate_poses and `manif-py register SCAN... MODEL --jsonl`."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from manif_py import pointcloud  # noqa: E402
from manif_py.registration import estimate_pose, estimate_poses  # noqa: E402
from manif_py.registration.commands import register_command  # noqa: E402
from manif_py.registration.synthetic.dataset import held_out_problem  # noqa: E402


def problems(count=2):
    return [held_out_problem(s, "partial", rotation="45") for s in range(1, 1 + count)]


def test_estimate_poses_matches_one_call_per_scan_and_keeps_errors():
    pairs = problems(2)
    model = pairs[0]["model"]
    scans = [pairs[0]["source"], pairs[1]["source"][:5], pairs[0]["source"] @ np.diag([1, 1, 1.0]).T]
    results = estimate_poses(scans, model, errors="keep", starts=2)
    assert len(results) == 3 and isinstance(results[1], ValueError)
    alone = estimate_pose(scans[0], model, starts=2)
    np.testing.assert_allclose(results[0].transformation, alone.transformation, atol=1e-9)
    assert results[0].fitness == pytest.approx(alone.fitness)
    with pytest.raises(ValueError, match="at least"):
        estimate_poses(scans, model, starts=2)  # errors="raise" stops at the bad scan
    with pytest.raises(ValueError, match="'errors'"):
        estimate_poses(scans, model, errors="ignore")


def test_register_many_scans_writes_jsonl_and_exits_non_zero_on_a_failure(tmp_path, capsys):
    pairs = problems(2)
    model = tmp_path / "model.ply"
    pointcloud.write_ply(str(model), pairs[0]["model"])
    good = tmp_path / "good.ply"
    pointcloud.write_ply(str(good), pairs[0]["source"])
    with_nan = pairs[0]["source"].copy()
    with_nan[[3, 7]] = np.nan
    nan_scan = tmp_path / "nan.xyz"
    np.savetxt(nan_scan, with_nan)
    missing = tmp_path / "missing.ply"
    out = tmp_path / "poses.jsonl"
    code = register_command.main([str(good), str(nan_scan), str(missing), str(model), "--jsonl", str(out),
                                  "--starts", "2", "--threads", "1"])
    assert code == 2  # two of the three scans failed
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["scan"] for x in lines] == [str(good), str(nan_scan), str(missing)]
    alone = estimate_pose(pointcloud.read_point_cloud(str(good)).points, pointcloud.read_point_cloud(str(model)).points,
                          starts=2)
    assert lines[0]["error"] is None and lines[0]["confident"] == alone.confident
    np.testing.assert_allclose(lines[0]["pose"], alone.transformation, atol=1e-9)
    assert "NaN" in lines[1]["error"] and lines[1]["pose"] is None and lines[1]["confident"] is False
    assert lines[2]["error"] and lines[2]["pose"] is None
    err = capsys.readouterr().err
    assert "register" in err and "scan" in err  # the progress bar, on stderr

    # --drop-invalid: the NaN points are dropped, with a count, and the scan registers
    code = register_command.main([str(nan_scan), str(good), str(model), "--jsonl", str(out), "--drop-invalid",
                                  "--starts", "2"])
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert all(x["error"] is None for x in lines) and code in (0, 3)
    assert code == (0 if all(x["confident"] for x in lines) else 3)
    assert "dropped 2 points" in capsys.readouterr().err


def test_register_arguments_and_exit_codes_in_help(capsys):
    with pytest.raises(SystemExit):
        register_command.main(["only_one.ply"])
    assert "at least one scan and the model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        register_command.main(["a.ply", "b.ply", "m.ply", "--plot", "x.png"])
    with pytest.raises(SystemExit) as exit_:
        register_command.main(["--help"])
    assert exit_.value.code == 0
    help_text = capsys.readouterr().out
    assert "exit status" in help_text and "not confident" in help_text and "--jsonl" in help_text
    assert "--threads" in help_text and "--drop-invalid" in help_text
