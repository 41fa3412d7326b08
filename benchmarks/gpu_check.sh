#!/usr/bin/env bash
# One prepared run for a machine with a CUDA GPU (CuPy installed): the CUDA test cases, then the
# GPU timings. Writes everything under ${OUT:-gpu-check}/ so the results can be copied into docs/.
#   usage:  bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-gpu-check}"
mkdir -p "$OUT"
python3 -c "import cupy, minigrad as mg; print('cupy', cupy.__version__, 'GPU:', mg.cuda.is_available())" | tee "$OUT/env.txt"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader >> "$OUT/env.txt" 2>/dev/null
# every test parametrized over devices, CUDA cases included
PYTHONPATH=. python3 -m pytest -q -p no:cacheprovider -k "cuda" tests 2>&1 | tail -n 40 | tee "$OUT/cuda-tests.txt"
PYTHONPATH=. python3 benchmarks/bench_gpu.py 2>&1 | tee "$OUT/bench-gpu.txt"
