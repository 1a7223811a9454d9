"""ONNX export with the checks every shipped model passes: opset 17, one self-contained file,
`onnx.checker`, ONNX Runtime agreeing with PyTorch; only then is the file renamed into place,
so a failed export never replaces a working model."""
import numpy as np
import onnx
import onnxruntime as ort
import torch

OPSET = 17


def export_checked(module, dummy, path, inputs, outputs, dynamic_axes, check_feeds, tol):
    """Exports `module` (traced with `dummy`, a tuple of tensors) to `path`, runs it with ONNX
    Runtime on `check_feeds` (input name -> tensor) and compares with PyTorch. Returns the largest
    absolute difference; raises when it exceeds `tol`."""
    tmp = path.with_name(f".{path.name}.tmp")
    torch.onnx.export(module, dummy, str(tmp), input_names=inputs, output_names=outputs,
                      dynamic_axes=dynamic_axes, opset_version=OPSET, dynamo=False)
    onnx.checker.check_model(onnx.load(str(tmp)))
    assert not list(path.parent.glob("*.onnx.data")), "export must be a single self-contained file"
    with torch.no_grad():
        ref = module(*[check_feeds[n] for n in inputs])
    ref = [t.numpy() for t in (ref if isinstance(ref, (tuple, list)) else (ref,))]
    session = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
    got = session.run(None, {n: t.numpy() for n, t in check_feeds.items()})
    err = max(float(np.abs(a - b).max()) for a, b in zip(ref, got, strict=True))
    if err >= tol:
        tmp.unlink()
        raise AssertionError(f"{path.name}: ONNX Runtime differs from PyTorch by {err} (tolerance {tol})")
    tmp.replace(path)
    return err
