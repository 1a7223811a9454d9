#!/usr/bin/env bash
# Builds the denoiser's data set in resumable chunks (safe to kill and rerun; a fresh machine
# starts from scratch). Needs Debian's libllvm19 for Mitsuba's LLVM backend.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
dpkg -s libllvm19 >/dev/null 2>&1 || apt-get install -y libllvm19
$PY textures.py
$PY render.py --split val
while :; do
  n=$($PY render.py --split train --count 25 | tee /dev/stderr | grep -c '^train [0-9]*: [0-9.]*s$' || true)
  [ "$n" -eq 0 ] && break
done
