#!/usr/bin/env bash
# One prepared run for a machine with a CUDA GPU (CuPy installed, the repo not pip-installed):
#   tests   every test case that runs on CUDA (pytest -k cuda)
#   bench   benchmarks/bench_gpu.py --train --jit (minigrad eager and mg.jit vs a CuPy floor vs PyTorch CUDA
#           eager and torch.cuda.graph)
#   command minigrad train on CUDA: digits (the default job) and 2 MNIST epochs, eager and --jit
#   recipe  the >= 98.5% MNIST recipe of docs/results.md on CUDA, timed (needs MNIST)
#   cnn     bench_gpu.py --cnn (MNIST epochs of the CNN vs PyTorch/cuDNN) and the CNN recipe on CUDA, timed
# STEPS picks them (default "tests bench command"); the later steps run only if the tests pass.
# Everything goes under ${OUT:-gpu-check}/, written as it goes, so a run cut short still reports.
#   usage:  MINIGRAD_DATA=<dir with mnist/> [STEPS="tests bench recipe"] bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-gpu-check}"
STEPS=" ${STEPS:-tests bench command} "
mkdir -p "$OUT"
export PYTHONPATH="$PWD" PYTHONUNBUFFERED=1 HYPOTHESIS_PROFILE=ci
TIMEFORMAT='%R s wall'
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c "import sys, numpy, cupy; print(sys.version.split()[0], 'numpy', numpy.__version__, 'cupy', cupy.__version__)"
  python3 -m minigrad info
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
if [[ "$STEPS" == *" tests "* ]]; then
  extra=()  # pytest-xdist / pytest-timeout where installed (they are on the lent GPU machines)
  python3 -c "import xdist" 2>/dev/null && extra+=(-n 8)
  python3 -c "import pytest_timeout" 2>/dev/null && extra+=(--timeout 120)
  timeout "${TESTS_S:-200}" python3 -m pytest -p no:cacheprovider -rfEs --tb=short "${extra[@]}" -k cuda tests \
    > "$OUT/tests.txt" 2>&1
  status=$?
  echo "tests exit $status"; grep -E "^(FAILED|ERROR)|passed|failed" "$OUT/tests.txt" | tail -n 30
  [ "$status" -eq 0 ] || exit 1
fi
if [[ "$STEPS" == *" bench "* ]]; then
  timeout "${BENCH_S:-150}" python3 benchmarks/bench_gpu.py --train --jit > "$OUT/bench-gpu.txt" 2>&1
  echo "bench exit $?"; cat "$OUT/bench-gpu.txt"
fi
if [[ "$STEPS" == *" command "* ]]; then
  {
    time timeout 60 python3 -m minigrad train --device cuda --plot none
    time timeout 90 python3 -m minigrad train --dataset mnist --device cuda --epochs 2 --plot none
    time timeout 90 python3 -m minigrad train --dataset mnist --device cuda --epochs 2 --plot none --jit
  } > "$OUT/train-cuda.txt" 2>&1
  echo "command exit $?"; tail -n 8 "$OUT/train-cuda.txt"
fi
if [[ "$STEPS" == *" recipe "* ]]; then
  { time timeout "${RECIPE_S:-240}" python3 -m minigrad train --dataset mnist --hidden 512,512 --activation relu \
      --dropout 0.25 --optimizer adam --lr 1e-3 --batch-size 128 --epochs 30 --augment --lr-schedule cosine \
      --device cuda --plot "$OUT/recipe-curves.png"; } > "$OUT/recipe-cuda.txt" 2>&1
  echo "recipe exit $?"; tail -n 6 "$OUT/recipe-cuda.txt"
fi
if [[ "$STEPS" == *" cnn "* ]]; then
  timeout "${CNN_BENCH_S:-240}" python3 benchmarks/bench_gpu.py --rounds 1 --repeat 1 --cnn > "$OUT/bench-cnn.txt" 2>&1
  echo "cnn bench exit $?"; grep -A4 "CNN of" "$OUT/bench-cnn.txt"
  { time timeout "${CNN_RECIPE_S:-600}" python3 -m minigrad train --dataset mnist --model cnn --channels 32,64 \
      --conv-padding valid --hidden 256 --dropout 0.5 --optimizer adam --lr 1e-3 --lr-schedule cosine \
      --batch-size 128 --epochs 15 --augment --device cuda --save "$OUT/cnn.safetensors" --plot none; } \
      > "$OUT/cnn-recipe-cuda.txt" 2>&1
  echo "cnn recipe exit $?"; tail -n 4 "$OUT/cnn-recipe-cuda.txt"
fi
