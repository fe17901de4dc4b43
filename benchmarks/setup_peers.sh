#!/usr/bin/env bash
# Creates the virtual environments that hold the peer libraries of the benchmarks.
#
#   .bench-venv/main    sees the system site-packages (manif_py editable install,
#                       numpy 2, scipy); adds torch (CPU), pypose, jax, jaxlie, gtsam,
#                       and open3d 0.20 (registration baselines; needs Debian's
#                       libusb-1.0-0, installed here with apt-get when missing),
#                       small-gicp, opencv-contrib-python and Debian's assimp-testmodels
#                       (bench_registration_realistic.py).
#   .bench-venv/sophus  numpy<2 + sophuspy 1.2.0 (it segfaults with numpy 2.x);
#                       the benchmarks run it in a subprocess and read JSON back.
#
# manif_py itself is never rebuilt or reinstalled here.
# Usage: bash benchmarks/setup_peers.sh   (idempotent; safe to rerun)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENVS="$ROOT/.bench-venv"
PY="${PYTHON:-python3}"

make_venv() {  # make_venv DIR [--system-site-packages]
  local dir="$1"; shift
  if [ ! -x "$dir/bin/python" ]; then
    echo "== creating $dir"
    "$PY" -m venv "$@" "$dir"
  fi
}

try_install() {  # try_install VENV PKG...: a peer that fails to install is reported, not fatal
  local venv="$1"; shift
  if ! "$venv/bin/python" -m pip install --quiet "$@"; then
    echo "!! could not install: $* (the benchmark will report it as n/a)"
  fi
}

main_venv() {
  local v="$VENVS/main"
  make_venv "$v" --system-site-packages
  # Exactly this spec: the CPU wheel on local disk (other specs pull CUDA builds).
  try_install "$v" torch==2.13.0
  try_install "$v" pypose
  try_install "$v" jax jaxlib jaxlie
  try_install "$v" gtsam
  if ! ldconfig -p | grep -q libusb-1.0; then
    apt-get install -y -q libusb-1.0-0 >/dev/null 2>&1 || echo "!! could not install libusb-1.0-0 (open3d will not import)"
  fi
  try_install "$v" open3d==0.20.0
  # bench_registration_realistic.py: small_gicp (the ICP stage), OpenCV's PPF matcher, and
  # Debian's assimp-testmodels for its real meshes (read from /usr/share/assimp/models).
  try_install "$v" small-gicp opencv-contrib-python
  if [ ! -d /usr/share/assimp/models ]; then
    apt-get install -y -q assimp-testmodels >/dev/null 2>&1 || echo "!! could not install assimp-testmodels (no realistic meshes)"
  fi
  "$v/bin/python" - <<'EOF'
import importlib
for name in ["manif_py", "numpy", "scipy", "torch", "pypose", "jax", "jaxlie", "gtsam", "pybind11"]:
    try:
        mod = importlib.import_module(name)
        print(f"   {name:10s} {getattr(mod, '__version__', '?')}")
    except Exception as exc:  # report, never fail
        print(f"   {name:10s} n/a ({type(exc).__name__}: {exc})")
EOF
}

sophus_venv() {
  local v="$VENVS/sophus"
  make_venv "$v"
  try_install "$v" "numpy<2" sophuspy==1.2.0
  "$v/bin/python" -c "import numpy, sophuspy; print('   sophuspy ok, numpy', numpy.__version__)" \
    || echo "!! sophuspy does not import"
}

mkdir -p "$VENVS"
main_venv
sophus_venv
echo "== done: $VENVS"
