"""Export a model directory to ONNX with the normalisation and the sigmoid inside.

The ONNX graph takes bands in L4S scale (input ``bands``, N×C×H×W float32, batch, height and
width dynamic) and returns landslide probabilities (output ``probability``, N×1×H×W). The
band names, threshold and normalisation travel as ``metadata_props``, so a user of the ONNX
file needs nothing else. The TorchScript-based exporter (``dynamo=False``) is used: it
handles the dynamic axes of every registered architecture without onnxscript rewriting.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import onnx
import torch

from slidewatch import __version__
from slidewatch.atomic import atomic_output
from slidewatch.errors import ConfigError, ModelError
from slidewatch.models.identity import model_hash
from slidewatch.models.modelfile import ModelSpec, load_model
from slidewatch.models.probability import ProbabilityModel

INPUT_NAME = "bands"
OUTPUT_NAME = "probability"
OPSETS = range(13, 21)
"""Opsets offered: 13 is the oldest all architectures export to, 20 the exporter's newest."""


def input_doc(spec: ModelSpec) -> str:
    """The ``doc_string`` of the graph's input: what to feed, in which band order."""
    return (
        f"N×{spec.in_channels}×H×W float32 in L4S scale, bands in this order: "
        f"{','.join(spec.bands)} (reorder your patch's bands to it; "
        "slidewatch.models.bandorder.reorder_bands does)"
    )


def onnx_metadata(spec: ModelSpec, digest: str = "") -> dict[str, str]:
    """The ``metadata_props`` of an exported model (all values are strings).

    ``model_hash`` ties the graph to the model files it came from (empty when unknown).
    """
    return {
        "bands": ",".join(spec.bands),
        "threshold": repr(float(spec.threshold)),
        "architecture": spec.architecture,
        "patch_size": str(spec.patch_size),
        "normalization": json.dumps(spec.normalization.to_dict()),
        "input_scale": "L4S",
        "slidewatch_version": __version__,
        "model_hash": digest,
    }


def _export_graph(network: torch.nn.Module, example: torch.Tensor, path: Path, opset: int) -> None:
    axes = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript tracer warnings about shape-dependent code
        torch.onnx.export(
            network,
            (example,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            opset_version=opset,
            dynamic_axes={INPUT_NAME: axes, OUTPUT_NAME: axes},
            dynamo=False,
        )


def export_onnx(model_dir: Path, onnx_path: Path, opset: int = 17) -> Path:
    """Write ``onnx_path`` from the model in ``model_dir``; return the path written."""
    if opset not in OPSETS:
        raise ConfigError(
            f"ONNX opset {opset} is not supported; choose {OPSETS.start} to {OPSETS.stop - 1} "
            "(default 17)"
        )
    digest = model_hash(Path(model_dir))
    model, spec = load_model(Path(model_dir), device="cpu")
    network = ProbabilityModel(model, spec.normalization).eval()
    example = torch.zeros(1, spec.in_channels, spec.patch_size, spec.patch_size)
    onnx_path = Path(onnx_path)
    with atomic_output(onnx_path) as tmp:
        try:
            _export_graph(network, example, tmp, opset)
        except (RuntimeError, ValueError, torch.onnx.errors.OnnxExporterError) as exc:
            reason = (str(exc).strip() or type(exc).__name__).splitlines()[0][:200]
            raise ModelError(
                f"could not export {model_dir} to ONNX opset {opset} ({reason}); "
                "try another --opset (17 is known to work)"
            ) from None
        proto = onnx.load(str(tmp))
        for key, value in onnx_metadata(spec, digest).items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        proto.graph.input[0].doc_string = input_doc(spec)
        proto.graph.doc_string = input_doc(spec)
        onnx.save(proto, str(tmp))
    return onnx_path
