"""Which ONNX Runtime settings move the denoiser's CPU speed (the README reports the answer):
graph optimisation level (level 3 = all, including the NCHWc layout transform) and intra-op
threads, for OIDN's default network on one 1920x1088 colour+albedo+normal input.

    python ort_options.py
"""
import time

import numpy as np
import onnxruntime as ort

import config

LEVELS = {
    "disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all (layout)": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


def ms_per_mp(model, level, threads, x, runs=2):
    so = ort.SessionOptions()
    so.graph_optimization_level = level
    so.intra_op_num_threads = threads
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    s = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
    s.run(None, {"input": x})
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        s.run(None, {"input": x})
        times.append(time.perf_counter() - t)
    return 1000 * min(times) / (x.shape[2] * x.shape[3] / 1e6)


def main():
    x = np.random.default_rng(0).random((1, 9, 1088, 1920), dtype=np.float32)
    name = "denoise-hdr-alb-nrm"
    model = config.MODELS / name / f"{name}.onnx"
    for label, level in LEVELS.items():
        print(f"{name} {label:14} 2 threads: {ms_per_mp(model, level, 2, x):8.1f} ms/MP", flush=True)
    all_ = LEVELS["all (layout)"]
    print(f"{name} {'all (layout)':14} 1 thread:  {ms_per_mp(model, all_, 1, x):8.1f} ms/MP", flush=True)


if __name__ == "__main__":
    main()
