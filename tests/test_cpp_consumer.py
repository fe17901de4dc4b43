"""The C++ core is usable from C++ alone: install it with CMake (no Python extension),
then build and run tests/cpp_consumer against the installed package config."""

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONSUMER = ROOT / "tests" / "cpp_consumer"
GROUP_HEADERS = ["so2.h", "se2.h", "so3.h", "se3.h", "se23.h", "sgal3.h", "sim3.h", "rn.h"]


def find_cmake():
    exe = shutil.which("cmake")
    if exe is None:
        try:
            import cmake  # the pip-installed CMake
            exe = str(Path(cmake.CMAKE_BIN_DIR) / "cmake")
        except ImportError:
            return None
    return exe


def find_compiler():
    for name in (os.environ.get("CXX"), "c++", "g++", "clang++"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def cmeel_prefixes():
    """site-packages/cmeel.prefix dirs (where PyPI's cmeel-eigen installs Eigen3Config.cmake)."""
    dirs = site.getsitepackages() + [site.getusersitepackages()] + sys.path
    return sorted({str(Path(d) / "cmeel.prefix") for d in dirs if d and (Path(d) / "cmeel.prefix").is_dir()})


def run(cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    return r


@pytest.fixture(scope="module")
def tools():
    cmake, cxx = find_cmake(), find_compiler()
    if cmake is None:
        pytest.skip("cmake is not installed")
    if cxx is None:
        pytest.skip("no C++ compiler (c++, g++, clang++) found")
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    return cmake, cxx, generator


def configure_and_build(tools, source, build, prefix_path, extra=()):
    cmake, cxx, generator = tools
    run([cmake, "-S", source, "-B", build, *generator, f"-DCMAKE_CXX_COMPILER={cxx}",
         "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_PREFIX_PATH={';'.join(map(str, prefix_path))}", *extra])
    run([cmake, "--build", build])


def run_consumer(build):
    exe = Path(build) / ("consumer.exe" if os.name == "nt" else "consumer")
    assert exe.is_file(), f"consumer executable not built in {build}"
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1] == "OK", r.stdout
    return r.stdout


@pytest.fixture(scope="module")
def installed_prefix(tools, tmp_path_factory):
    """The core installed by `cmake --install` from the top-level project, Python off."""
    cmake = tools[0]
    tmp = tmp_path_factory.mktemp("core")
    build, prefix = tmp / "build", tmp / "prefix"
    configure_and_build(tools, ROOT, build, cmeel_prefixes(), ["-DMANIF_PY_BUILD_PYTHON=OFF"])
    run([cmake, "--install", build, "--prefix", prefix])
    return prefix


def test_install_ships_headers_and_cmake_config(installed_prefix):
    include = installed_prefix / "include" / "manif_py"
    assert (include / "lie.h").is_file()
    for h in GROUP_HEADERS + ["lie_group_base.h", "ops.h", "common.h"]:
        assert (include / "lie" / h).is_file(), h
    assert (include / "batch" / "parallel_for.h").is_file()
    configs = list(installed_prefix.rglob("manif_pyConfig.cmake"))
    assert len(configs) == 1, configs
    assert (configs[0].parent / "manif_pyConfigVersion.cmake").is_file()
    assert (configs[0].parent / "manif_pyTargets.cmake").is_file()
    # C++ alone: no Python extension is installed.
    assert not list(installed_prefix.rglob("_core*"))


def test_consumer_builds_and_runs_against_install(tools, installed_prefix, tmp_path):
    build = tmp_path / "consumer"
    configure_and_build(tools, CONSUMER, build, [installed_prefix, *cmeel_prefixes()])
    out = run_consumer(build)
    for name in ("SO2", "SE2", "SO3", "SE3", "SE23", "Sim3", "SGal3", "R4"):
        assert name in out


def package_dir():
    import manif_py._core as core

    return Path(core.__file__).resolve().parent


def test_wheel_ships_headers_if_present():
    # An editable install may leave the headers out; a wheel puts them in the package.
    include = package_dir() / "include" / "manif_py"
    if not include.is_dir():
        pytest.skip(f"no headers under {package_dir()} (editable install)")
    assert (include / "lie.h").is_file()
    for h in GROUP_HEADERS:
        assert (include / "lie" / h).is_file(), h
    assert list(package_dir().rglob("manif_pyConfig.cmake")), "headers shipped without the CMake config"


def test_consumer_builds_against_package_dir_if_present(tools, tmp_path):
    config = list(package_dir().rglob("manif_pyConfig.cmake"))
    if not config:
        pytest.skip(f"no CMake config under {package_dir()} (editable install)")
    build = tmp_path / "consumer"
    configure_and_build(tools, CONSUMER, build, [package_dir(), *cmeel_prefixes()],
                        [f"-Dmanif_py_DIR={config[0].parent}"])
    run_consumer(build)
