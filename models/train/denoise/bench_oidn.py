"""Baseline half of `cargo xtask bench denoise`: Intel OIDN (pyoidn) on the frames the Rust
benchmark wrote, at one quality. Prints one JSON line: ms per megapixel and peak resident memory.

    python bench_oidn.py COLOR.pfm ALBEDO.pfm NORMAL.pfm RUNS cpu|cuda high|fast
"""
import json
import sys
import time

import numpy as np
import pyoidn


def read_pfm(path):
    with open(path, "rb") as f:
        assert f.readline().strip() == b"PF"
        w, h = map(int, f.readline().split())
        scale = float(f.readline())
        data = np.frombuffer(f.read(), dtype="<f4" if scale < 0 else ">f4")
    return np.ascontiguousarray(data.reshape(h, w, 3)[::-1])


def peak_rss_mb():
    """VmHWM of this process. (ru_maxrss would include the parent's RSS inherited over exec.)"""
    with open("/proc/self/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    return kb / 1024


def main():
    color, albedo, normal, runs, device, quality = sys.argv[1:4] + [int(sys.argv[4]), sys.argv[5], sys.argv[6]]
    c, a, n = read_pfm(color), read_pfm(albedo), read_pfm(normal)
    if device == "cuda":
        import torch  # pyoidn runs on the GPU when given CUDA tensors
        c, a, n = (torch.from_numpy(x).cuda() for x in (c, a, n))
    pyoidn.denoise(c, a, n, hdr=True, quality=quality)  # warm-up: device and filter creation
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = pyoidn.denoise(c, a, n, hdr=True, quality=quality)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    mp = c.shape[0] * c.shape[1] / 1e6
    print(json.dumps({"ms_per_mp": 1000 * float(np.median(times)) / mp,
                      "peak_rss_mb": peak_rss_mb(),
                      "finite": bool(np.isfinite(np.asarray(out.cpu() if device == "cuda" else out)).all())}))


if __name__ == "__main__":
    main()
