#!/usr/bin/env bash
# One prepared run for a machine with a CUDA GPU (CuPy installed, the repo not pip-installed):
# every test case that runs on CUDA (pytest -k cuda), the GPU timings, and the command on CUDA.
# Everything goes under ${OUT:-gpu-check}/, written as it goes, so a run cut short still reports.
#   usage:  MINIGRAD_DATA=<dir with mnist/> bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-gpu-check}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD" PYTHONUNBUFFERED=1 HYPOTHESIS_PROFILE=ci
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c "import sys, numpy, cupy; print(sys.version.split()[0], 'numpy', numpy.__version__, 'cupy', cupy.__version__)"
  python3 -m minigrad info
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
# pytest-xdist / pytest-timeout where installed (they are on the lent GPU machines)
extra=()
python3 -c "import xdist" 2>/dev/null && extra+=(-n 8)
python3 -c "import pytest_timeout" 2>/dev/null && extra+=(--timeout 120)
timeout "${TESTS_S:-200}" python3 -m pytest -p no:cacheprovider -rfEs --tb=short "${extra[@]}" -k cuda tests \
  > "$OUT/tests.txt" 2>&1
echo "tests exit $?"; tail -n 5 "$OUT/tests.txt"
timeout "${BENCH_S:-120}" python3 benchmarks/bench_gpu.py --train > "$OUT/bench-gpu.txt" 2>&1
echo "bench exit $?"; cat "$OUT/bench-gpu.txt"
TIMEFORMAT='%R s wall'
{
  time timeout 60 python3 -m minigrad train --device cuda --plot none
  time timeout 90 python3 -m minigrad train --dataset mnist --device cuda --epochs 2 --plot none
} > "$OUT/train-cuda.txt" 2>&1
echo "train exit $?"; cat "$OUT/train-cuda.txt"
