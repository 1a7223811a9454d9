#!/usr/bin/env bash
# Builds the denoiser's data set in resumable chunks (safe to kill and rerun; a fresh machine
# starts from scratch). Needs Debian's libllvm19 for Mitsuba's LLVM backend.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
dpkg -s libllvm19 >/dev/null 2>&1 || apt-get install -y libllvm19
$PY textures.py
$PY render.py --split val
# Chunks of 25 scenes; stop when a chunk finds nothing left to render (rendered + skipped = total).
done_count() { ls "$1" 2>/dev/null | grep -cE '^scene_[0-9]+\.(npz|skip)$' || true; }
DATA_DIR=$($PY -c "import config; print(config.DATA / 'train')")
while :; do
  before=$(done_count "$DATA_DIR")
  $PY render.py --split train --count 25
  [ "$(done_count "$DATA_DIR")" -eq "$before" ] && break
done
