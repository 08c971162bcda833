"""A model directory described as a STAC item with the Machine Learning Model extension (MLM).

The item says what a model is (``mlm:name``, ``mlm:architecture``, the task), what it eats
(``mlm:input``: the band names in order, the N×C×H×W shape, the per-band ``value_scaling``
of its normalisation, applied to L4S-scale values) and what it gives (``mlm:output``: the
landslide probability and its two classes), how it was made (framework, parameter count,
hyperparameters, the training data with its sizes and the reviews it came from) and how it
scored (``slidewatch:metrics``: its validation, and every benchmark the store judged it on).

``mlm:value_scaling`` is written as the specification's list (one z-score or min-max per
band); pystac's helper writes a single object, so the input is built here as a plain dict.
No torch: the parameter count is read from the safetensors header.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pystac

from slidewatch.atomic import write_text_atomic
from slidewatch.data.patch_index import INDEX_GEOJSON
from slidewatch.errors import SlidewatchError
from slidewatch.models.modelfile import SPEC_FILE, WEIGHTS_FILE, ModelSpec, read_spec

ITEM_FILE = "item.json"
"""The model's STAC item, beside ``model.json`` (not part of the model's hash)."""
MLM_SCHEMA = "https://stac-extensions.github.io/mlm/v1.4.0/schema.json"
TASK = "semantic-segmentation"
CLASSES = ({"value": 0, "name": "background"}, {"value": 1, "name": "landslide"})
HYPERPARAMETERS = ("loss", "alpha", "beta", "lr", "epochs", "batch_size", "normalization",
                   "augment", "seed", "split", "init_from")  # fmt: skip


def total_parameters(weights: Path) -> int:
    """Number of values in a safetensors file, read from its header (no torch)."""
    from safetensors import safe_open

    with safe_open(str(weights), framework="numpy") as f:
        total = 0
        for key in f.keys():  # noqa: SIM118 (safe_open is not a mapping)
            count = 1
            for side in f.get_slice(key).get_shape():
                count *= int(side)
            total += count
    return total


def value_scaling(spec: ModelSpec) -> list[dict[str, Any]]:
    """One MLM value-scaling object per band: the model's normalisation."""
    norm = spec.normalization
    out: list[dict[str, Any]] = []
    for offset, scale in zip(norm.offset, norm.scale, strict=True):
        if norm.method == "minmax":
            out.append({"type": "min-max", "minimum": offset, "maximum": offset + scale})
        else:  # standard, and none (mean 0, std 1)
            out.append({"type": "z-score", "mean": offset, "stddev": scale})
    return out


def model_input(spec: ModelSpec) -> dict[str, Any]:
    """``mlm:input``'s one entry: bands in order, shape, value scaling."""
    size = int(spec.patch_size)
    return {
        "name": "bands",
        "bands": list(spec.bands),
        "input": {"shape": [-1, spec.in_channels, size, size],
                  "dim_order": ["batch", "bands", "height", "width"], "data_type": "float32"},
        "description": "Sentinel-2 bands (and slope, DEM) at L4S scale (raw values divided "
        "by the L4S divisors of slidewatch.bands), in this order; any window size works, the "
        "model was trained on the patch size shown.",
        "value_scaling": value_scaling(spec),
        "resize_type": None,
        "pre_processing_function": None,
    }  # fmt: skip


def model_output(spec: ModelSpec) -> dict[str, Any]:
    """``mlm:output``'s one entry: the landslide probability and the two classes."""
    size = int(spec.patch_size)
    return {
        "name": "landslide-probability",
        "tasks": [TASK],
        "result": {"shape": [-1, 1, size, size],
                   "dim_order": ["batch", "channel", "height", "width"], "data_type": "float32"},
        "description": f"Landslide probability; a pixel is landslide when p >= "
        f"{spec.threshold:g} (the model's threshold).",
        "classification:classes": [dict(c) for c in CLASSES],
        "post_processing_function": None,
    }  # fmt: skip


def training_data(spec: ModelSpec) -> dict[str, Any]:
    """The datasets a model was trained on (name, patches), the split sizes, and lineage:
    the reviewed alerts among its patches (``review`` in their ``index.geojson``)."""
    from slidewatch.data.layout import discover_many

    t = spec.training
    datasets, reviews = [], []
    for folder in map(Path, t.get("data_dirs", [])):
        try:
            patches = len(discover_many([folder]))
        except (SlidewatchError, OSError):  # a moved dataset is still named, without size
            patches = None
        datasets.append({"name": folder.name, "path": str(folder), "patches": patches})
        reviews += review_lineage(folder)
    return {"datasets": datasets, "n_train": t.get("n_train"), "n_val": t.get("n_val"),
            "init_from": t.get("init_from"), "reviews": reviews}  # fmt: skip


def review_lineage(folder: Path) -> list[dict[str, Any]]:
    """The reviews behind a patch folder (the ``reviews`` of its index, written by
    ``monitor export-reviews``): one record per review, with the patches it labels."""
    index = Path(folder) / INDEX_GEOJSON
    try:
        features = json.loads(index.read_text(encoding="utf-8")).get("features", [])
    except (OSError, ValueError, AttributeError):
        return []
    by_review: dict[Any, dict[str, Any]] = {}
    for f in features:
        reviews = f.get("properties", {}).get("reviews") if isinstance(f, dict) else None
        for r in reviews if isinstance(reviews, list) else []:
            entry = by_review.setdefault(r.get("id"), {**r, "patches": []})
            entry["patches"].append(f.get("id"))
    return list(by_review.values())


def hyperparameters(spec: ModelSpec) -> dict[str, Any]:
    config = spec.training.get("config", {})
    chosen = {k: config[k] for k in HYPERPARAMETERS if config.get(k) is not None}
    return {**chosen, "architecture_options": dict(spec.options), "threshold": spec.threshold}


def model_item(
    model_dir: Path,
    name: str,
    model_hash: str,
    benchmarks: Mapping[str, Any] | None = None,
    when: datetime | None = None,
) -> pystac.Item:
    """The MLM STAC item of ``model_dir`` (assets relative to the folder)."""
    model_dir = Path(model_dir)
    spec = read_spec(model_dir)
    when = when or datetime.fromtimestamp((model_dir / SPEC_FILE).stat().st_mtime, UTC)
    config = spec.training.get("config", {})
    item = pystac.Item(id=name, geometry=None, bbox=None, datetime=when, properties={})
    item.stac_extensions.append(MLM_SCHEMA)
    item.properties.update({
        "description": f"slidewatch landslide segmentation model {name} ({spec.architecture}, "
                       f"{spec.in_channels} bands)",
        "mlm:name": name,
        "mlm:architecture": spec.architecture,
        "mlm:tasks": [TASK],
        "mlm:framework": "pytorch",
        "mlm:total_parameters": total_parameters(model_dir / WEIGHTS_FILE),
        "mlm:pretrained": bool(config.get("init_from") or spec.options.get("encoder_weights")),
        "mlm:input": [model_input(spec)],
        "mlm:output": [model_output(spec)],
        "mlm:hyperparameters": hyperparameters(spec),
        "slidewatch:model_hash": model_hash,
        "slidewatch:training_data": training_data(spec),
        "slidewatch:metrics": {"validation": dict(spec.metrics),
                               "benchmarks": dict(benchmarks or {})},
    })  # fmt: skip
    weights = pystac.Asset(WEIGHTS_FILE, media_type="application/octet-stream",
                           roles=["mlm:model", "mlm:weights", "data"], title="weights")  # fmt: skip
    weights.extra_fields["mlm:artifact_type"] = "safetensors"
    item.add_asset("weights", weights)
    item.add_asset("description", pystac.Asset(SPEC_FILE, media_type="application/json",
                                               roles=["metadata"], title="model.json"))  # fmt: skip
    return item


def write_model_item(
    model_dir: Path,
    name: str | None = None,
    model_hash: str | None = None,
    benchmarks: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``item.json`` beside a model's files (atomically); return its path."""
    from slidewatch.models.identity import model_hash as hash_of

    model_dir = Path(model_dir)
    digest = model_hash or hash_of(model_dir)
    item = model_item(model_dir, name or f"model-{digest[:12]}", digest, benchmarks)
    text = json.dumps(item.to_dict(include_self_link=False), indent=1)
    return write_text_atomic(model_dir / ITEM_FILE, text + "\n")


def read_item(model_dir: Path) -> dict[str, Any] | None:
    """The item of a model directory as JSON, or None when it has none."""
    try:
        payload = json.loads((Path(model_dir) / ITEM_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def benchmark_f1(item: Mapping[str, Any] | None, benchmark: str | None = None) -> float | None:
    """A benchmark's F1 from an item (the named one, else the latest judged); None if none."""
    benches: Sequence[Any] | Mapping[str, Any] = (
        (item or {}).get("properties", {}).get("slidewatch:metrics", {}).get("benchmarks", {})
    )
    if not isinstance(benches, Mapping) or not benches:
        return None
    chosen = benches.get(benchmark) if benchmark else max(
        benches.values(), key=lambda b: str(b.get("judged_at", "")))  # fmt: skip
    try:
        return float(chosen["f1"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return None
