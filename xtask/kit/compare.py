"""Compares the outputs of one command run on the CPU and with CUDA (the GPU kit's check.sh).

    compare.py --min-psnr 50 CPU_DIR CUDA_DIR   every image in both folders: PSNR >= the bound
    compare.py --midi CPU_DIR CUDA_DIR          every MIDI file: the same notes at the same ticks

Prints one line per file; exits 1 when a file differs beyond the bound or is missing.
"""

import argparse
import math
import sys
from pathlib import Path


def psnr(a, b):
    import numpy as np
    from PIL import Image

    x = np.asarray(Image.open(a), dtype=np.float64)
    y = np.asarray(Image.open(b), dtype=np.float64)
    if x.shape != y.shape:
        return None
    peak = 65535.0 if x.max() > 255 or y.max() > 255 else 255.0
    mse = float(((x - y) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(peak * peak / mse)


def varint(data, i):
    """A MIDI variable-length number at `data[i]`: (its value, the index after it)."""
    value = 0
    while True:
        byte = data[i]
        i += 1
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, i


def notes(path):
    """(tick, status, key) of every note-on in a standard MIDI file (running status understood)."""
    data = Path(path).read_bytes()
    pos, found = 14, []
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos + 4:pos + 8], "big")
        track, pos = data[pos + 8:pos + 8 + length], pos + 8 + length
        i, tick, status = 0, 0, 0
        while i < len(track):
            delta, i = varint(track, i)
            tick += delta
            if track[i] >= 0x80:
                status = track[i]
                i += 1
            if status == 0xFF:
                size, i = varint(track, i + 1)
                i += size
            elif status in (0xF0, 0xF7):
                size = track[i]
                i += 1 + size
            else:
                width = 1 if status & 0xF0 in (0xC0, 0xD0) else 2
                if status & 0xF0 == 0x90 and track[i + 1] > 0:
                    found.append((tick, status, track[i]))
                i += width
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--min-psnr", type=float)
    parser.add_argument("--midi", action="store_true")
    parser.add_argument("cpu")
    parser.add_argument("cuda")
    args = parser.parse_args()
    ok = True
    files = sorted(p for p in Path(args.cpu).iterdir() if p.is_file())
    if not files:
        print(f"compare: {args.cpu} is empty")
        return 1
    for cpu in files:
        cuda = Path(args.cuda) / cpu.name
        if not cuda.is_file():
            print(f"{cpu.name}: missing from the CUDA run")
            ok = False
        elif args.midi and cpu.suffix == ".mid":
            a, b = notes(cpu), notes(cuda)
            same = sum(1 for x, y in zip(a, b) if x == y)
            print(f"{cpu.name}: {len(a)} notes on the CPU, {len(b)} with CUDA, {same} the same")
            ok &= a == b
        elif args.min_psnr is not None and cpu.suffix.lower() in (".png", ".tif", ".tiff"):
            value = psnr(cpu, cuda)
            if value is None:
                print(f"{cpu.name}: the sizes differ")
                ok = False
            else:
                print(f"{cpu.name}: PSNR {value:.1f} dB between the CPU's and CUDA's")
                ok &= value >= args.min_psnr
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
