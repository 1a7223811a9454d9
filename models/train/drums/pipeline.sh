#!/usr/bin/env bash
# The drum one-shot model's whole run, resumable (`cargo xtask train drums`):
# data (Debian hydrogen-drumkits) -> train (10-minute chunks, checkpointed) -> export -> evaluate -> card.
# TRAIN_MINUTES sets the total training time (default 40, as shipped).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../../.. && pwd)
VENV=${VENV:-$ROOT/.work/venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import torch, soundfile, scipy, onnx, onnxruntime" 2>/dev/null || "$VENV/bin/pip" install -r requirements.txt
PYTHON="$VENV/bin/python"
[ -f "$ROOT/.work/drums-data/train.npz" ] || "$PYTHON" dataset.py
TOTAL=${TRAIN_MINUTES:-40}
# Each chunk trains 10 minutes; exit status 75 means the planned total is not reached yet.
while :; do
  status=0
  "$PYTHON" train.py --minutes 10 --until-minutes "$TOTAL" || status=$?
  [ "$status" -eq 0 ] && break
  [ "$status" -eq 75 ] || exit "$status"
done
"$PYTHON" export.py
"$PYTHON" evaluate.py
"$PYTHON" card.py
