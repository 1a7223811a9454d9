#!/usr/bin/env bash
# One model's whole training run, resumable at every stage (`cargo xtask train MODEL`):
# data -> train (chunks, checkpointed in .work/; exit status 75 = more to do) -> export ->
# evaluate -> model card. MODEL is a folder beside this script (denoise, groove, drums) whose
# pipeline.conf says what differs. TRAIN_MINUTES sets the total training time (default: the
# shipped run's). A killed run resumes where it stopped; a fresh machine starts from scratch.
set -euo pipefail
MODEL=${1:?usage: pipeline.sh denoise|groove|groove-clip|drums|texture|material|upscale}
HERE=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$HERE/$MODEL/pipeline.conf" ]; then
  echo "no model '$MODEL' in $HERE (use denoise, groove, groove-clip, drums, texture, material or upscale)" >&2
  exit 2
fi
cd "$HERE/$MODEL"
ROOT=$(cd ../../.. && pwd)
# IMPORTS (what the environment must import), CHUNK_MINUTES, DEFAULT_MINUTES, data_step and,
# optionally, train_args (more arguments for train.py).
train_args() { :; }
# shellcheck source=/dev/null
. ./pipeline.conf
VENV=${VENV:-$ROOT/.work/venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import $IMPORTS" 2>/dev/null || "$VENV/bin/pip" install -r requirements.txt
export PYTHON="$VENV/bin/python"
data_step
TOTAL=${TRAIN_MINUTES:-$DEFAULT_MINUTES}
while :; do
  status=0
  # shellcheck disable=SC2046  # train_args prints words meant to split
  "$PYTHON" train.py --minutes "$CHUNK_MINUTES" --until-minutes "$TOTAL" $(train_args) || status=$?
  [ "$status" -eq 0 ] && break
  [ "$status" -eq 75 ] || exit "$status"
done
"$PYTHON" export.py
"$PYTHON" evaluate.py
"$PYTHON" card.py
