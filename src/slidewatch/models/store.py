"""The model store of a monitoring home: named, immutable model versions with their items.

A version is a folder ``<root>/<name>/`` holding a copy of a model's ``model.safetensors``
and ``model.json`` (made read-only), identified by their hash (:func:`model_hash`, the one
model identity), and its STAC item (``item.json``, :mod:`slidewatch.models.mlm_item`), which
grows a record for every benchmark the version is judged on; the item is not part of the
hash. A name is taken once: adding the same files again under the same name changes nothing,
other files under a taken name, or the same files under a second name, are refused. The
store also keeps which patch folder judges versions for an AOI (``benchmarks.json``: per
AOI, or ``*`` for all) and every promotion (``promotions.jsonl``, append-only). No torch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slidewatch.atomic import write_text_atomic
from slidewatch.errors import ConfigError, ModelError, unknown_name
from slidewatch.models.identity import current_model_hash, model_hash
from slidewatch.models.mlm_item import ITEM_FILE, benchmark_f1, model_item, read_item
from slidewatch.models.modelfile import SPEC_FILE, WEIGHTS_FILE, read_spec

MODEL_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")
"""A version's name: one path component (letters, digits, ``-``, ``_``, ``.``; no leading dot),
matched whole (``fullmatch``: no trailing newline)."""
BENCHMARKS_FILE = "benchmarks.json"
PROMOTIONS_FILE = "promotions.jsonl"
ALL_AOIS = "*"
"""The key of the benchmark that judges versions for every AOI without its own."""


@dataclass(frozen=True)
class ModelVersion:
    """One stored version, as ``models list`` shows it and a run records it."""

    name: str
    hash: str
    """``model_hash`` of its weights and description."""
    path: Path
    """Its folder in the store (absolute)."""
    architecture: str
    bands: tuple[str, ...]
    added_at: str
    """ISO time it was added (the item's ``datetime``)."""
    benchmark_f1: float | None
    """F1 on the benchmark it was last judged on (None: never judged)."""
    reviews: int
    """Reviewed alerts among its training patches (lineage)."""

    def summary(self) -> dict[str, Any]:
        """Name, hash and benchmark F1: what a run and an alert carry."""
        return {"name": self.name, "hash": self.hash, "benchmark_f1": self.benchmark_f1}


def check_name(name: str) -> str:
    """``name`` when it is a valid version name, else ConfigError naming the rule."""
    if not MODEL_NAME.fullmatch(name):
        raise ConfigError(
            f"model name {name!r}: use letters, digits, '-', '_' and '.' (not first), at "
            "most 128 characters, e.g. peru-2026-03"
        )
    return name


class ModelStore:
    """The versions under ``root`` (a home's ``models_dir``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if MODEL_NAME.fullmatch(p.name) and (p / SPEC_FILE).is_file())  # fmt: skip

    def versions(self) -> list[ModelVersion]:
        return [self._version(name) for name in self.names()]

    def get(self, name: str) -> ModelVersion:
        """Version ``name``; an unknown name lists the stored ones; ModelError when its
        files were changed since it was added (versions are immutable)."""
        names = self.names()
        if name not in names:
            raise ConfigError(str(unknown_name("model", name, names or ["(the store is empty)"])))
        version = self._version(name)
        if current_model_hash(version.path) != version.hash:
            raise ModelError(
                f"{version.path}: its files changed since version {name!r} was added "
                f"({version.hash[:12]}); versions are immutable: add the model under a new name"
            )
        return version

    def by_hash(self, digest: str) -> ModelVersion | None:
        return next((v for v in self.versions() if v.hash == digest), None)

    def _version(self, name: str) -> ModelVersion:
        folder = (self.root / name).resolve()
        item = read_item(folder) or {}
        props = item.get("properties", {})
        spec = read_spec(folder)
        digest = props.get("slidewatch:model_hash") or model_hash(folder)
        reviews = props.get("slidewatch:training_data", {}).get("reviews", [])
        return ModelVersion(name, str(digest), folder, spec.architecture, spec.bands,
                            str(props.get("datetime", "")), benchmark_f1(item),
                            len(reviews))  # fmt: skip

    def add(self, source: Path, name: str) -> tuple[ModelVersion, bool]:
        """Store the model directory ``source`` as version ``name``; return it and whether
        it was added (False: the same files were already stored under that name)."""
        check_name(name)
        read_spec(source)  # a readable model, or the error that says why
        digest = model_hash(source)
        if name in self.names():
            existing = self._version(name)
            if existing.hash == digest:
                return existing, False
            raise ConfigError(
                f"model name {name!r} is taken by version {existing.hash[:12]}; versions are "
                "immutable: choose a new name"
            )
        twin = self.by_hash(digest)
        if twin is not None:
            raise ConfigError(
                f"{source}: these files are already stored as {twin.name!r} ({digest[:12]}); "
                f"use that name"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=self.root))
        try:
            for file in (WEIGHTS_FILE, SPEC_FILE):
                shutil.copyfile(Path(source) / file, work / file)
                os.chmod(work / file, 0o444)
            if model_hash(work) != digest:
                raise ModelError(f"{source}: changed while it was copied; add it again")
            item = model_item(work, name, digest, when=datetime.now(UTC))
            write_text_atomic(work / ITEM_FILE, json.dumps(item.to_dict(False), indent=1) + "\n")
            os.chmod(work, 0o755)
            os.rename(work, self.root / name)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        return self._version(name), True

    def record_benchmark(self, name: str, benchmark: str, metrics: Mapping[str, Any]) -> None:
        """Add (or replace) the scores of version ``name`` on ``benchmark`` to its item."""
        folder = self.root / name
        item = read_item(folder)
        if item is None:
            raise ModelError(f"{folder / ITEM_FILE}: missing; add the model to the store again")
        benches = item["properties"].setdefault("slidewatch:metrics", {}).setdefault(
            "benchmarks", {})  # fmt: skip
        benches[benchmark] = {**metrics, "judged_at": datetime.now(UTC).isoformat()}
        write_text_atomic(folder / ITEM_FILE, json.dumps(item, indent=1) + "\n")

    # Benchmarks and promotions ---------------------------------------------------------
    def benchmarks(self) -> dict[str, str]:
        """AOI name (or ``*``) -> benchmark patch folder."""
        try:
            payload = json.loads((self.root / BENCHMARKS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in payload.items()} if isinstance(payload, dict) else {}

    def set_benchmark(self, folder: Path, aoi: str | None) -> None:
        """Judge versions for ``aoi`` (None: every AOI without its own) on ``folder``."""
        chosen = {**self.benchmarks(), aoi or ALL_AOIS: str(Path(folder).resolve())}
        self.root.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.root / BENCHMARKS_FILE, json.dumps(chosen, indent=1) + "\n")

    def benchmark_for(self, aoi: str) -> Path | None:
        """The AOI's benchmark folder, else the global one, else None."""
        chosen = self.benchmarks()
        folder = chosen.get(aoi) or chosen.get(ALL_AOIS)
        return Path(folder) if folder else None

    def log_promotion(self, record: Mapping[str, Any]) -> None:
        """Append one promotion to ``promotions.jsonl`` (never rewritten)."""
        self.root.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"at": datetime.now(UTC).isoformat(), **record}, default=str)
        with open(self.root / PROMOTIONS_FILE, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())

    def promotions(self) -> list[dict[str, Any]]:
        try:
            lines = (self.root / PROMOTIONS_FILE).read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        return [json.loads(line) for line in lines if line.strip()]


def model_version(path: str | Path, digest: str) -> dict[str, Any]:
    """Name, hash and benchmark F1 of the model a run uses (the folder at ``path`` with
    hash ``digest``): a store version's item names it; any other folder is named by itself,
    with no benchmark F1."""
    item = read_item(Path(path)) or {}
    props = item.get("properties", {})
    if props.get("slidewatch:model_hash") == digest:
        return {"name": str(props.get("mlm:name") or Path(path).name), "hash": digest,
                "benchmark_f1": benchmark_f1(item)}  # fmt: skip
    return {"name": Path(path).name, "hash": digest, "benchmark_f1": None}
