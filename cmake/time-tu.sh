#!/usr/bin/env bash
# Compiler launcher that appends one line per translation unit to $MANIF_PY_TU_TIMES:
# user and system CPU seconds, peak memory (KiB), wall seconds, source file. CPU time is
# the figure to compare: wall time depends on whatever else the machine runs.
# Use (see docs/building.md): CMAKE_CXX_COMPILER_LAUNCHER=/path/to/cmake/time-tu.sh
set -euo pipefail
out="${MANIF_PY_TU_TIMES:?set MANIF_PY_TU_TIMES to the file that collects the times}"
src="?"
args=("$@")
for ((i = 0; i < ${#args[@]} - 1; i++)); do
  if [ "${args[i]}" = "-c" ]; then src="${args[i+1]}"; fi
done
exec /usr/bin/time -a -o "$out" -f "%U %S %M %e $src" "$@"
