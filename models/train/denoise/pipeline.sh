#!/usr/bin/env bash
# The denoiser's whole training run, resumable at every stage (`cargo xtask train denoise`):
# data -> train (in 15-minute chunks, checkpointed) -> export -> evaluate -> model cards.
# Set TRAIN_MINUTES for the total training time (default 65, as shipped).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../../.. && pwd)
VENV=${VENV:-$ROOT/.work/venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -c "import torch, mitsuba, onnx, onnxruntime, pyoidn, OpenEXR, PIL" 2>/dev/null ||
  "$VENV/bin/pip" install -r requirements.txt
export PYTHON="$VENV/bin/python"
./build_data.sh
TOTAL=${TRAIN_MINUTES:-65}
while :; do
  out=$("$PYTHON" train.py --minutes 15 --until-minutes "$TOTAL" | tee /dev/stderr | tail -1)
  trained=$("$PYTHON" -c "import torch,config; print(torch.load(config.CKPT/'last.pt',weights_only=False)['state']['seconds']/60)")
  awk -v t="$trained" -v T="$TOTAL" 'BEGIN{exit !(t >= T - 0.1)}' && break
done
"$PYTHON" export.py
"$PYTHON" evaluate.py
"$PYTHON" card.py
