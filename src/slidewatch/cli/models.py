"""``slidewatch models`` (architectures; the home's model store: add, list, benchmark,
compare, promote) and ``slidewatch export`` (model → ONNX, with its STAC item)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from slidewatch.cli.options import device_option, engine_option, home_options


@click.group("models")
def models() -> None:
    """Model architectures, and the versions a home watches with (add, list, compare,
    promote): a version replaces an AOI's model only when it is not worse on a benchmark."""


@models.command("architectures")
def architectures() -> None:
    """List the model architectures that `slidewatch train --arch` accepts."""
    from slidewatch.models.registry import MODELS

    width = max(len(name) for name in MODELS)
    for name, entry in MODELS.items():
        click.echo(f"{name:<{width}}  {entry.description}")


@models.command("add")
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option("--name", required=True, help="Version name, e.g. peru-2026-03 (taken once).")
@home_options
def add(model_dir: Path, name: str, settings: Any) -> None:
    """Store MODEL_DIR (RUN/model) as an immutable version NAME, with its STAC item."""
    from slidewatch.application.model_store import add_model

    version, added = add_model(settings, model_dir, name)
    verb = "added" if added else "already stored:"
    click.echo(f"{verb} {version.name} ({version.hash[:12]}, {version.architecture}, "
               f"bands {','.join(version.bands)}) in {version.path}")  # fmt: skip


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the versions as JSON.")
@home_options
def list_versions(as_json: bool, settings: Any) -> None:
    """The stored versions: hash, architecture, bands, benchmark F1, reviews trained on."""
    from slidewatch.application.model_store import model_store

    versions = model_store(settings).versions()
    if as_json:
        rows = [{**v.summary(), "architecture": v.architecture, "bands": list(v.bands),
                 "added_at": v.added_at, "reviews": v.reviews} for v in versions]  # fmt: skip
        click.echo(json.dumps(rows, indent=1))
        return
    if not versions:
        click.echo("no model versions; add one with 'slidewatch models add RUN/model --name NAME'")
    for v in versions:
        f1 = "-" if v.benchmark_f1 is None else f"{v.benchmark_f1:.3f}"
        click.echo(f"{v.name:<20} {v.hash[:12]}  {v.architecture:<14} {len(v.bands):>2} bands  "
                   f"benchmark F1 {f1:<5}  {v.reviews} reviews  {v.added_at[:19]}")  # fmt: skip


@models.command("benchmark")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--aoi", default=None, help="Judge versions for this AOI (default: every AOI).")
@click.option("--hold-out", "fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=None, help="First hold out this share of FOLDER's patches as the "
              "benchmark (FOLDER/split.json: train, val, benchmark; a spatial block, whole "
              "landslides and overlapping windows kept on one side).")  # fmt: skip
@click.option("--seed", default=42, show_default=True, help="Seed of the train/val split.")
@home_options
def benchmark(folder: Path, aoi: str | None, fraction: float | None, seed: int,
              settings: Any) -> None:  # fmt: skip
    """Name FOLDER (patches with masks) as the benchmark versions are judged on."""
    from slidewatch.application.model_store import model_store
    from slidewatch.data.holdout import write_holdout

    if fraction is not None:
        sizes = write_holdout(folder, fraction, seed)
        click.echo(f"wrote {folder / 'split.json'}: " +
                   ", ".join(f"{n} {k}" for k, n in sizes.items()))  # fmt: skip
    model_store(settings).set_benchmark(folder, aoi)
    click.echo(f"versions for {'AOI ' + aoi if aoi else 'every AOI'} are judged on {folder}")


def _show(comparison: Any) -> str:
    new, cur = comparison.new, comparison.current
    lines = [f"benchmark: {comparison.scored} — {comparison.patches} patches"]
    for s in (new, cur):
        p, loss = s.pixel, s.losses
        lines.append(f"  {s.name:<18} P {p['precision']:.3f}  R {p['recall']:.3f}  "
                     f"F1 {p['f1']:.3f}  IoU {p['iou']:.3f}  Dice-WCE {loss['dice_wce']:.4f}  "
                     f"WCE {loss['wce']:.4f}  Dice {loss['dice']:.4f}")  # fmt: skip
    low, high = comparison.interval
    lines.append(f"  F1 difference {comparison.f1_difference:+.3f} (95 % paired bootstrap "
                 f"{low:+.3f}..{high:+.3f}, {comparison.resamples} resamples): "
                 f"{comparison.verdict}")  # fmt: skip
    return "\n".join(lines)


@models.command("compare")
@click.argument("new")
@click.option("--against", "current", required=True, help="Version name or model folder.")
@click.option("--data", "data", multiple=True, required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Benchmark patch folder (its split.json 'benchmark' part when it has one, "
                   "else all its labelled patches); repeatable.")  # fmt: skip
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the comparison as JSON.")  # fmt: skip
@click.option("--seed", default=0, show_default=True, help="Seed of the bootstrap.")
@device_option()
@engine_option
@home_options
def compare(new: str, current: str, data: tuple[Path, ...], out: Path | None, seed: int,
            device: str, engine: str, settings: Any) -> None:  # fmt: skip
    """Score NEW and --against on the same benchmark patches and judge the difference."""
    from slidewatch.application.model_store import record_comparison, version_or_folder
    from slidewatch.training.compare import compare_models

    result = compare_models(version_or_folder(settings, new), version_or_folder(settings, current),
                            data, seed=seed, engine=engine, device=device)  # fmt: skip
    record_comparison(settings, result)
    click.echo(_show(result))
    if out is not None:
        from slidewatch.atomic import write_text_atomic

        write_text_atomic(out, json.dumps(result.to_dict(), indent=1))


@models.command("promote")
@click.argument("name")
@click.option("--aoi", required=True, help="The AOI to switch to version NAME.")
@click.option("--data", "data", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="Benchmark folder  [default: the one named for the AOI, else for every "
                   "AOI, by 'models benchmark']")  # fmt: skip
@click.option("--force", is_flag=True, help="Promote even when worse or unjudged (recorded).")
@device_option()
@engine_option
@home_options
def promote(name: str, aoi: str, data: tuple[Path, ...], force: bool, device: str, engine: str,
            settings: Any) -> None:  # fmt: skip
    """Switch AOI to version NAME when it is not worse than its current model."""
    from slidewatch.application.model_store import plan_promotion
    from slidewatch.application.model_store import promote as promote_version

    plan = plan_promotion(settings, name, aoi, data)
    comparison = None
    if plan.benchmark and plan.version.hash != plan.current[2]:
        from slidewatch.training.compare import compare_models

        comparison = compare_models((plan.version.name, plan.version.path),
                                    plan.current[:2], plan.benchmark, engine=engine,
                                    device=device)  # fmt: skip
        click.echo(_show(comparison))
    done = promote_version(settings, plan, comparison, force)
    if not done.switched:
        click.echo(f"AOI {aoi} already uses {name}")
        return
    forced = " (forced: recorded)" if done.forced else ""
    click.echo(f"AOI {aoi}: {done.previous} → {name} ({done.version.hash[:12]}){forced}")


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
    """Export a model directory to ONNX with the normalisation inside; write the model's
    STAC item (ML Model extension) beside its files as item.json."""
    from slidewatch.models.mlm_item import write_model_item
    from slidewatch.models.modelfile import read_spec
    from slidewatch.models.onnx_export import export_onnx

    spec = read_spec(model_dir)
    out = export_onnx(model_dir, onnx_path, opset=opset)
    item = write_model_item(model_dir)
    click.echo(
        f"wrote {out} ({spec.architecture}, bands {','.join(spec.bands)}, "
        f"threshold {spec.threshold:g}); feed it bands in that order\nwrote {item}"
    )
