#!/usr/bin/env bash
# The groove VAE's whole run, resumable (`cargo xtask train groove`):
# data -> train (10-minute chunks, checkpointed) -> export -> evaluate -> model card.
# TRAIN_MINUTES sets the total training time (default 25, as shipped).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../../.. && pwd)
VENV=${VENV:-$ROOT/.work/venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import torch, mido, onnx, onnxruntime" 2>/dev/null || "$VENV/bin/pip" install -r requirements.txt
PYTHON="$VENV/bin/python"
"$PYTHON" dataset.py
TOTAL=${TRAIN_MINUTES:-25}
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
