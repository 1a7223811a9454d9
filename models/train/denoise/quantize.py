"""Tries int8 static quantisation of OIDN's HDR colour+albedo+normal network with ONNX Runtime
(QDQ, per-channel int8 weights, uint8 activations calibrated on the Cycles training renders) and
reports what it does to speed (1920x1088, 2 threads) and to PSNR on the held-out Cycles scenes.
The issue's bar: keep PSNR within 0.2 dB of the float network.

    python quantize.py
"""
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

import config
import cycles_data
import evaluate
import transfer
from model import UNet
from oidn_weights import load_all


class Calibration(CalibrationDataReader):
    """Whole 160x160 frames of the training scenes at mixed sample counts, as the network sees them."""

    def __init__(self, count=24):
        scenes = cycles_data.load("train")
        rng = np.random.default_rng(3)
        self.inputs = []
        for _ in range(count):
            s = scenes[rng.integers(len(scenes))]
            c, a, n = s[config.CYCLES_SPP[rng.integers(len(config.CYCLES_SPP))]]
            self.inputs.append({"input": transfer.network_input(c, a, n, True, transfer.autoexposure(c))})
        self.it = iter(self.inputs)

    def get_next(self):
        return next(self.it, None)


def session(path, threads=2):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def ms_per_mp(s, x):
    s.run(None, {"input": x})
    best = min(_timed(s, x) for _ in range(2))
    return 1000 * best / (x.shape[2] * x.shape[3] / 1e6)


def _timed(s, x):
    t = time.perf_counter()
    s.run(None, {"input": x})
    return time.perf_counter() - t


def denoise(s, color, albedo, normal):
    scale = transfer.autoexposure(color)
    y = s.run(None, {"input": transfer.network_input(color, albedo, normal, True, scale)})[0]
    return transfer.inverse(y[0].transpose(1, 2, 0), True, scale)


def main():
    net = UNet.from_oidn(load_all()["rt_hdr_alb_nrm"]).eval()
    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8 = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        axes = {0: "batch", 2: "height", 3: "width"}
        torch.onnx.export(net, (torch.rand(1, 9, 64, 64),), str(fp32), input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": axes, "output": axes}, opset_version=17, dynamo=False)
        a = session(fp32)
        x = np.random.default_rng(0).random((1, 9, 1088, 1920), dtype=np.float32)
        print(f"float: {ms_per_mp(a, x):.0f} ms/MP")
        convs = [node.name for node in __import__("onnx").load(str(fp32)).graph.node if node.op_type == "Conv"]
        # Every conv, then all but the full-resolution ones (first two, last three), where the
        # PU-encoded detail lives.
        for label, exclude in (("all convs", []), ("inner convs", convs[:2] + convs[-3:])):
            quantize_static(str(fp32), str(int8), Calibration(), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            op_types_to_quantize=["Conv"], nodes_to_exclude=exclude)
            b = session(int8)
            report = [f"int8 {label}: {ms_per_mp(b, x):.0f} ms/MP"]
            for spp in config.CYCLES_EVAL_SPP:
                diffs = []
                for s in cycles_data.load("heldout"):
                    c, al, n = s[spp]
                    diffs.append(evaluate.scores(denoise(b, c, al, n), s["ref"])[0]
                                 - evaluate.scores(denoise(a, c, al, n), s["ref"])[0])
                report.append(f"{spp} spp {np.mean(diffs):+.2f} dB (worst {min(diffs):+.2f})")
            print("; ".join(report), flush=True)


if __name__ == "__main__":
    main()
