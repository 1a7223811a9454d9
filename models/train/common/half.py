"""Weights stored as float16 behind Cast nodes. ONNX Runtime folds the casts when it loads a
model and computes in float32, so the file halves while the arithmetic stays float32; only the
weights are rounded. `store_weights_half` is applied at export (denoise, groove, groove-clip);
`python -m common.half NAME...` applies it to a shipped model (updating its model.toml) and prints
the largest output change on random inputs in the declared ranges; what that means for a task is
measured by the task's own check (groove/half_check.py)."""
import hashlib
import re
import sys
import tomllib
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

MODELS = Path(__file__).resolve().parents[2]
# Smaller float tensors (norm scales, biases of tiny layers, constants) stay float32.
MIN_ELEMENTS = 256


def store_weights_half(path, ops=None, min_elements=MIN_ELEMENTS):
    """Rewrites the float32 initialisers of `path` with at least `min_elements` values (inputs of
    nodes whose op is in `ops`, or of every node) as float16 behind Cast nodes. Returns how many."""
    model = onnx.load(str(path))
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    wanted = set()
    for node in graph.node:
        if ops is None or node.op_type in ops:
            wanted.update(n for n in node.input if n in inits)
    casts = []
    for name in sorted(wanted):
        init = inits[name]
        if init.data_type != TensorProto.FLOAT or int(np.prod(init.dims)) < min_elements:
            continue
        half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), name + "_f16")
        init.CopyFrom(half)
        casts.append(helper.make_node("Cast", [half.name], [name], to=TensorProto.FLOAT))
    # Old exports list initialisers among the graph inputs too; a cast output cannot be one.
    cast_outputs = {c.output[0] for c in casts}
    kept = [i for i in graph.input if i.name not in cast_outputs]
    del graph.input[:]
    graph.input.extend(kept)
    for c in reversed(casts):
        graph.node.insert(0, c)
    onnx.checker.check_model(model)
    tmp = path.with_name(f".{path.name}.f16")
    onnx.save(model, str(tmp))
    tmp.replace(path)
    return len(casts)


def random_feeds(session, ranges, rng, batch=8, spatial=64):
    """Inputs for every model input, uniform in the range its model.toml declares."""
    feeds = {}
    for i in session.get_inputs():
        shape = [d if isinstance(d, int) else (batch if k == 0 else spatial) for k, d in enumerate(i.shape)]
        low, high = ranges.get(i.name, (-1.0, 1.0))
        feeds[i.name] = rng.uniform(low, high, shape).astype(np.float32)
    return feeds


def input_ranges(toml_text):
    """name -> (low, high) of each [[inputs]] table of a model.toml."""
    data = tomllib.loads(toml_text)
    return {t["name"]: tuple(t["range"]) for t in data.get("inputs", []) if "range" in t}


def compact(name, trials=4):
    """Stores shipped model NAME's weights as float16, updates its model.toml (sha256, size) and
    returns (old bytes, new bytes, largest output difference, largest output magnitude)."""
    path = MODELS / name / f"{name}.onnx"
    toml = path.with_name("model.toml")
    before = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    ranges = input_ranges(toml.read_text())
    feeds = [random_feeds(before, ranges, rng) for _ in range(trials)]
    want = [before.run(None, f) for f in feeds]
    old = path.stat().st_size
    store_weights_half(path)
    after = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = [after.run(None, f) for f in feeds]
    pairs = [(a, b) for w, g in zip(want, got, strict=True) for a, b in zip(w, g, strict=True)]
    err = max(float(np.abs(a - b).max()) for a, b in pairs)
    scale = max(float(np.abs(a).max()) for a, _ in pairs)
    data = path.read_bytes()
    text = toml.read_text()
    text = re.sub(r'(?m)^sha256 = ".*"$', f'sha256 = "{hashlib.sha256(data).hexdigest()}"', text)
    text = re.sub(r"(?m)^size_bytes = \d+$", f"size_bytes = {len(data)}", text)
    toml.write_text(text)
    return old, len(data), err, scale


if __name__ == "__main__":
    for model in sys.argv[1:]:
        old, new, err, scale = compact(model)
        print(f"{model}: {old / 1e6:.2f} -> {new / 1e6:.2f} MB; largest output difference {err:.2e} "
              f"(outputs up to {scale:.2f})", flush=True)
