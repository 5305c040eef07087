#!/usr/bin/env bash
# Everything owed on a GPU host, in one call, for machines lent for minutes: the device, the probe, the contract
# suite on cuda and on the vendor's OpenCL, Fuse4J's fused layer timed at the three GPU shapes, and PyTorch beside
# it on the same GPU. Needs the runtime image (./fuse4j runtime) and python3 with torch; no JDK.
#
#   bench/gpu/run-on-gpu.sh [RUNTIME_DIR] [OUT_DIR]      defaults: runtime, $OUT or gpu-out
#   runtime/fuse4j-gpu gpu-check [OUT_DIR]               the same, from the copy inside the runtime image
#
# Each step's raw output goes to OUT_DIR/<step>.txt with its exit status on the last line; a failing step does not
# stop the next one, so one short loan yields every result it can.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rt="${1:-runtime}"
out="${2:-${OUT:-gpu-out}}"
mkdir -p "$out"
shapes=4096x4096x4096,8192x1024x1024,65536x256x256

step() {
  local name="$1"; shift
  echo "=== $name: $*"
  "$@" > "$out/$name.txt" 2>&1
  echo "exit status $?" >> "$out/$name.txt"
  tail -n 25 "$out/$name.txt"
}

step device nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
step probe "$rt/fuse4j-gpu" probe
step test-cuda "$rt/fuse4j-gpu" test cuda
step test-opencl "$rt/fuse4j-gpu" test opencl
# GPUs come first in probe order, so opencl:0 is the GPU's OpenCL platform where the vendor installed one.
step compare "$rt/fuse4j-gpu" compare --shapes "$shapes" --backends cuda:0,opencl:0 --peers none --p 0.5 \
  --budget 12 --out "$out/compare"
step pytorch python3 "$here/pytorch_peer.py" ${shapes//,/ }
