#!/usr/bin/env bash
# The CUDA check of the GPU kit (`cargo xtask gpu-kit`), run from the repository root (the models
# come from its models/, the test images from tests/fixtures/). On the GPU machine:
#
#   .work/gpu-kit/check.sh              finds CUDA 13's libraries, then with --device cuda: denoises
#                                       the 4K frame 5 times (provider and ms of each), upscales,
#                                       generates a texture and a groove; each output is compared
#                                       with the CPU's (PSNR >= 50 dB; MIDI notes)
#   .work/gpu-kit/check.sh --expect-cpu the same with no GPU: every command must warn that CUDA is
#                                       unavailable, with the reason, and run on the CPU
#
# Writes $OUT/gpu-check.log (OUT defaults to a folder beside this script). Exits 1 on a failed check.
set -uo pipefail
KIT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$PWD"
EXPECT_CPU=0
RUNS=5
# Without a GPU one run shows the fallback (a 4K frame takes 30 s on 2 cores).
[ "${1:-}" = "--expect-cpu" ] && EXPECT_CPU=1 && RUNS=1
OUT="${OUT:-$KIT/out}"
mkdir -p "$OUT"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
exec > >(tee "$OUT/gpu-check.log") 2>&1
FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; }

# CUDA 13's libraries: the nvidia-* wheels of a Python environment (the image's PyTorch one).
for python in /opt/torch/.venv/bin/python3 python3; do
    site="$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null)" || continue
    [ -d "$site/nvidia" ] || continue
    while read -r dir; do LD_LIBRARY_PATH="$dir:${LD_LIBRARY_PATH:-}"; done \
        < <(find "$site/nvidia" -name 'lib*.so*' -printf '%h\n' | sort -u)
    echo "CUDA libraries from $site/nvidia"
    break
done
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}"
PYTHON="${CHECK_PYTHON:-python3}"
[ -x /opt/torch/.venv/bin/python3 ] && PYTHON=/opt/torch/.venv/bin/python3
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

LF=("$KIT/bin/latentforge" --ort-lib "$KIT/lib" --models "$REPO/models")
"${LF[@]}" --version || { echo "FAIL: the kit's latentforge does not start"; exit 1; }

# A command on the CPU and with --device cuda; checks the fallback (--expect-cpu) or its absence.
# Sets CUDA_MS (milliseconds of the cuda run, the whole process).
pair() {
    local name="$1"; shift
    "${LF[@]}" --device cpu "$@" --out-dir "$WORK/${name}_cpu" >"$WORK/${name}_cpu.txt" 2>&1 \
        || { fail "$name on the CPU: $(tail -3 "$WORK/${name}_cpu.txt")"; return 1; }
    local start end
    start=$(date +%s%N)
    "${LF[@]}" --device cuda "$@" --out-dir "$WORK/${name}_cuda" >"$WORK/${name}_cuda.txt" 2>&1 \
        || { fail "$name with --device cuda: $(tail -3 "$WORK/${name}_cuda.txt")"; return 1; }
    end=$(date +%s%N)
    CUDA_MS=$(( (end - start) / 1000000 ))
    fallback "$name" "$WORK/${name}_cuda.txt"
}

# The fallback warning must be there exactly when no GPU is expected.
fallback() {
    local warned=0
    grep -q "CUDA unavailable" "$2" && warned=1
    if [ "$EXPECT_CPU" = 1 ] && [ "$warned" = 0 ]; then fail "$1: no 'CUDA unavailable' warning without a GPU"; fi
    if [ "$EXPECT_CPU" = 0 ] && [ "$warned" = 1 ]; then fail "$1: fell back to the CPU: $(grep -m1 'CUDA unavailable' "$2")"; fi
    [ "$warned" = 1 ] && echo "$1: $(grep -m1 'CUDA unavailable' "$2" | sed 's/.*WARN[^:]*: //')"
    return 0
}

# 1. Denoise: the CPU output is the reference; with CUDA the frame runs $RUNS times in one process
# (the first includes creating the session), each line naming the device it ran on.
frame="$KIT/frames/frame_4k.pfm"
"${LF[@]}" --device cpu denoise "$frame" -o "$WORK/denoise_cpu.pfm" --quality high --json >"$WORK/dn_cpu.json" 2>"$WORK/dn_cpu.err" \
    || fail "denoise on the CPU: $(tail -3 "$WORK/dn_cpu.err")"
cpu_ms=$("$PYTHON" -c 'import json,sys; print(next(json.loads(l)["ms"] for l in open(sys.argv[1]) if "\"ms\"" in l))' "$WORK/dn_cpu.json")
echo "denoise 3840x2160 --quality high on the CPU: $cpu_ms ms"
mkdir -p "$WORK/runs"
mkdir -p "$WORK/refs"
for i in $(seq "$RUNS"); do
    for side in "" _albedo _normal; do ln -s "$KIT/frames/frame_4k$side.pfm" "$WORK/runs/run_$i$side.pfm"; done
    ln -s "$WORK/denoise_cpu.pfm" "$WORK/refs/ref_$i.pfm"
done
"${LF[@]}" --device cuda denoise "$WORK"/runs/run_?.pfm --out-dir "$WORK/denoise_cuda" --quality high \
    --reference "$WORK/refs/ref_#.pfm" --json >"$WORK/dn_cuda.json" 2>"$WORK/dn_cuda.err" \
    || fail "denoise with --device cuda: $(tail -3 "$WORK/dn_cuda.err")"
fallback denoise "$WORK/dn_cuda.err"
"$PYTHON" - "$WORK/dn_cuda.json" "$EXPECT_CPU" "$RUNS" <<'PY' || FAILED=1
import json, sys
runs = [e for e in map(json.loads, open(sys.argv[1])) if "ms" in e]
expect = "cpu" if sys.argv[2] == "1" else "cuda"
ok = len(runs) == int(sys.argv[3])
for k, e in enumerate(runs, 1):
    good = e["device"].lower() == expect and e["output_psnr"] >= 50
    ok &= good
    print(f"denoise run {k}: {e['device']}, {e['ms']} ms, PSNR vs the CPU's output {e['output_psnr']:.1f} dB"
          + ("" if good else f"  <- expected {expect} and >= 50 dB"))
steady = sorted(e["ms"] for e in runs[1:])
if steady:
    print(f"denoise 3840x2160 with --device cuda: median {steady[len(steady) // 2]} ms of runs 2-5")
sys.exit(0 if ok else 1)
PY

# 2. Upscale, texture generate, groove: CPU and CUDA outputs compared.
pair upscale upscale "$REPO/tests/fixtures/materials/stone_tiles/stone_tiles_Color.png" --scale 2 \
    && echo "upscale 2x 256->512 with --device cuda: ${CUDA_MS} ms (whole process)" \
    && "$PYTHON" "$KIT/compare.py" --min-psnr 50 "$WORK/upscale_cpu" "$WORK/upscale_cuda" || FAILED=1
pair texture texture generate --material rock --seed 7 --size 1024 \
    && echo "texture generate 1024 with --device cuda: ${CUDA_MS} ms (whole process)" \
    && "$PYTHON" "$KIT/compare.py" --min-psnr 50 "$WORK/texture_cpu" "$WORK/texture_cuda" || FAILED=1
pair groove groove --preset funk-pocket --count 2 --bars 4 --seed 3 \
    && echo "groove 2 x 4 bars with --device cuda: ${CUDA_MS} ms (whole process)" \
    && "$PYTHON" "$KIT/compare.py" --midi "$WORK/groove_cpu" "$WORK/groove_cuda" || FAILED=1

if [ "$FAILED" = 0 ]; then echo "gpu check: passed"; else echo "gpu check: FAILED"; fi
exit "$FAILED"
