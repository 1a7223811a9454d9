"""The experiment behind issue 25's CPU-speed item: pads each denoiser's input channels (9, 6 or 3)
with zeros to a multiple of the SIMD block (16 floats with AVX-512), so the first convolution and
the skip connection that concatenates the input run in ONNX Runtime's blocked NCHWc layout, and
the last convolution leaves its plain-kernel fallback. Outputs stay within 1e-4 (checked; they
move by under 1e-6). Padding the 3 output channels as well was measured no faster.

Measured (README, Benchmarks): the bare session at 1920x1088 is about 6 % faster for the default
network and no faster for the small one, while peak memory per pixel grows 16 % and 90 %; through
`cargo xtask bench denoise` the difference is inside run-to-run noise. The shipped models are not
padded; the engine runs padded ones (input channels named `pad` after the passes), so this stays
a one-command re-measurement:

    python pad_channels.py      # padded copies of the shipped denoisers into .work/denoise-padded
    LATENTFORGE_MODELS=.work/denoise-padded cargo xtask bench denoise
"""
import hashlib
import shutil
import sys
import tomllib

import numpy as np
import onnx
import onnxruntime as ort
import tomli_w
from onnx import numpy_helper

import config

BLOCK = 16
TOLERANCE = 1e-4
PAD_NAME = "pad"


def padded(n, multiple=BLOCK):
    return -(-n // multiple) * multiple


def _initializer(graph, name):
    """The initialiser feeding `name`, following one Cast (float16 weights stored behind a Cast)."""
    inits = {i.name: i for i in graph.initializer}
    if name in inits:
        return inits[name]
    cast = next(n for n in graph.node if n.op_type == "Cast" and n.output[0] == name)
    return inits[cast.input[0]]


def _pad_weight(graph, name, *, axis, at, count):
    """Inserts `count` zero slices into initialiser `name` along `axis` at index `at`."""
    init = _initializer(graph, name)
    w = numpy_helper.to_array(init)
    shape = list(w.shape)
    shape[axis] = count
    w = np.concatenate([np.take(w, range(at), axis=axis), np.zeros(shape, w.dtype),
                        np.take(w, range(at, w.shape[axis]), axis=axis)], axis=axis)
    init.CopyFrom(numpy_helper.from_array(w, init.name))


def pad_graph(model):
    """Pads the input of `model` (an OIDN U-Net as export.py writes it) in place; returns the input
    channels after padding, or None when it is padded already."""
    graph = model.graph
    inp = graph.input[0]
    cin = inp.type.tensor_type.shape.dim[1].dim_value
    if cin % BLOCK == 0:
        return None
    extra = padded(cin) - cin
    for node in graph.node:
        if node.op_type == "Conv" and node.input[0] == inp.name:
            _pad_weight(graph, node.input[1], axis=1, at=cin, count=extra)
        if node.op_type == "Concat" and inp.name in node.input:
            # The skip connection feeds the input to the next convolution after the upsampled
            # features: its weights grow where the input's channels end.
            if list(node.input).index(inp.name) != len(node.input) - 1:
                raise ValueError("the input must be the last concatenated tensor")
            conv = next(n for n in graph.node if n.op_type == "Conv" and n.input[0] == node.output[0])
            width = numpy_helper.to_array(_initializer(graph, conv.input[1])).shape[1]
            _pad_weight(graph, conv.input[1], axis=1, at=width, count=extra)
    inp.type.tensor_type.shape.dim[1].dim_value = padded(cin)
    onnx.checker.check_model(model)
    return padded(cin)


def run(path, x):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]


def pad_file(path):
    """Pads the denoiser at `path` in place after checking the padded graph against it. Returns
    (input channels after padding, largest output change), or None when it was padded already."""
    model = onnx.load(str(path))
    cin = model.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    x = np.random.default_rng(0).random((1, cin, 96, 128), dtype=np.float32)
    want = run(path, x)
    channels = pad_graph(model)
    if channels is None:
        return None
    tmp = path.with_name(f".{path.name}.padded")
    onnx.save(model, str(tmp))
    got = run(tmp, np.concatenate([x, np.zeros((1, channels - cin, *x.shape[2:]), np.float32)], 1))
    err = float(np.abs(got - want).max())
    if err > TOLERANCE:
        tmp.unlink()
        raise ValueError(f"{path}: padding changed the output by {err:.2e}")
    tmp.replace(path)
    return channels, err


def pad_spec(spec, count):
    """A model.toml tensor table grown to `count` channels, the new ones named PAD_NAME."""
    return {**spec, "shape": [spec["shape"][0], count, *spec["shape"][2:]],
            "channels": spec["channels"] + [PAD_NAME] * (count - spec["shape"][1])}


def pad_copy(name, into):
    """Copies shipped model NAME into `into`, padded, with its model.toml rewritten: signature,
    checksum, size and the peak memory per pixel (measured again: tiles are sized from it).
    Returns the largest output change, or None when it was padded already."""
    from export import peak_bytes_per_pixel  # export.py owns the memory measurement

    folder = into / name
    shutil.copytree(config.MODELS / name, folder, dirs_exist_ok=True)
    path = folder / f"{name}.onnx"
    padded = pad_file(path)
    if padded is None:
        return None
    channels, err = padded
    toml_path = path.with_name("model.toml")
    text = toml_path.read_text()
    header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
    manifest = tomllib.loads(text)
    data = path.read_bytes()
    manifest["sha256"] = hashlib.sha256(data).hexdigest()
    manifest["size_bytes"] = len(data)
    manifest["inputs"][0] = pad_spec(manifest["inputs"][0], channels)
    manifest["denoise"]["peak_bytes_per_pixel"] = peak_bytes_per_pixel(path, channels)
    toml_path.write_text(header + tomli_w.dumps(manifest))
    return err


def main():
    into = config.WORK / "denoise-padded"
    names = sys.argv[1:] or sorted(p.name for p in config.MODELS.glob("denoise-*") if p.is_dir())
    for name in names:
        err = pad_copy(name, into)
        print(f"{name}: " + ("padded already" if err is None else f"padded, outputs moved at most {err:.1e}"),
              flush=True)
    print(f"padded copies in {into}: LATENTFORGE_MODELS={into} cargo xtask bench denoise")


if __name__ == "__main__":
    main()
