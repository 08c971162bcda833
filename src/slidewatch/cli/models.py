"""``slidewatch models`` (list the architectures) and ``slidewatch export`` (model → ONNX)."""

from __future__ import annotations

from pathlib import Path

import click

from slidewatch.models.registry import MODELS


@click.command("models")
def models() -> None:
    """List the model architectures that `slidewatch train --model` accepts."""
    width = max(len(name) for name in MODELS)
    for name, entry in MODELS.items():
        click.echo(f"{name:<{width}}  {entry.description}")


@click.command("export")
@click.option(
    "--model",
    "model_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Model directory holding model.json and model.safetensors (RUN_DIR/model).",
)
@click.option(
    "--out",
    "onnx_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="ONNX file to write (input 'bands': L4S scale in the model's band order, named in "
    "the input's doc string; output: landslide probability). `detect --model FILE.onnx` "
    "runs it without torch.",
)
@click.option(
    "--opset",
    type=int,
    default=17,
    show_default=True,
    help="ONNX opset version (13 to 20).",
)
def export(model_dir: Path, onnx_path: Path, opset: int) -> None:
    """Export a model directory to ONNX with the normalisation inside."""
    from slidewatch.models.modelfile import read_spec
    from slidewatch.models.onnx_export import export_onnx

    spec = read_spec(model_dir)
    out = export_onnx(model_dir, onnx_path, opset=opset)
    click.echo(
        f"wrote {out} ({spec.architecture}, bands {','.join(spec.bands)}, "
        f"threshold {spec.threshold:g}); feed it bands in that order"
    )
