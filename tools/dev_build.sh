#!/usr/bin/env bash
# Rebuild the editable install. Serialised by a lock, because parallel builds
# in the one persistent build directory corrupt each other.
set -euo pipefail
cd "$(dirname "$0")/.."
exec flock /tmp/manif_py_build.lock \
  python -m pip install --no-build-isolation --no-deps -q -e . "$@"
