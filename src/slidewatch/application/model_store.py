"""The model versions of a home, as ``slidewatch models`` uses them: add, list, and promote
a version to an AOI only when the evaluation gate (:mod:`slidewatch.models.gate`) says it is
not worse than the AOI's current model on the AOI's benchmark.

Promotion is planned here (:func:`plan_promotion`: the version, the AOI's current model, the
benchmark), scored by the edge (the comparison runs the models, which needs torch: the CLI
calls :func:`slidewatch.training.compare.compare_models`), and decided and recorded here
(:func:`promote`): the gate's verdict or ``force``, the AOI switched, the promotion appended
to the store's log, the scores written into both versions' items. No torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slidewatch.application.settings import HomeSettings
from slidewatch.bands import resolve_bands
from slidewatch.errors import ConfigError
from slidewatch.models.gate import Comparison
from slidewatch.models.store import ModelStore, ModelVersion


def model_store(settings: HomeSettings) -> ModelStore:
    """The store in the home's models folder."""
    return ModelStore(settings.layout.models_dir)


def add_model(settings: HomeSettings, model_dir: Path, name: str) -> tuple[ModelVersion, bool]:
    """Store ``model_dir`` as version ``name`` (see :meth:`ModelStore.add`)."""
    return model_store(settings).add(Path(model_dir), name)


def version_or_folder(settings: HomeSettings, ref: str) -> tuple[str, Path]:
    """(name, folder) of a stored version named ``ref``, else of a model folder at ``ref``."""
    store = model_store(settings)
    if ref in store.names():
        version = store.get(ref)
        return version.name, version.path
    path = Path(ref)
    if (path / "model.json").is_file():
        return path.resolve().name if path.name != "model" else path.resolve().parent.name, path
    names = store.names()
    raise ConfigError(
        f"{ref!r} is neither a version in {store.root} ({', '.join(names) or 'none'}) nor a "
        "model folder; add it with 'slidewatch models add' or give RUN/model"
    )


@dataclass(frozen=True)
class PromotionPlan:
    """What a promotion compares: the version, the AOI's current model, the benchmark."""

    aoi: str
    version: ModelVersion
    current: tuple[str, Path, str]
    """(name, folder, hash) of the AOI's model now (the folder's name when not stored)."""
    benchmark: tuple[Path, ...]
    """Patch folders judging the two (empty: none chosen for the AOI)."""


def plan_promotion(
    settings: HomeSettings, name: str, aoi: str, data: tuple[Path, ...] = ()
) -> PromotionPlan:
    """The plan of promoting version ``name`` to AOI ``aoi``, judged on ``data`` or else
    the benchmark the store names for the AOI (or for every AOI)."""
    from slidewatch.monitoring.registry import Registry

    store = model_store(settings)
    version = store.get(name)
    with Registry(settings.layout.created().registry_url) as registry:
        row = registry.get_aoi(aoi)
        path, digest, source = Path(row.model_path), row.model_hash, dict(row.source)
    check_source_bands(source, version, aoi)
    stored = store.by_hash(digest)
    current = (stored.name, stored.path, digest) if stored else (path.name, path, digest)
    chosen = store.benchmark_for(aoi)
    bench = tuple(map(Path, data)) or ((chosen,) if chosen else ())
    return PromotionPlan(aoi, version, current, bench)


def check_source_bands(source: dict[str, Any], version: ModelVersion, aoi: str) -> None:
    """ConfigError when the AOI's source does not fetch every band the version reads."""
    listed = source.get("bands")
    if not isinstance(listed, str) or listed == "auto":
        return
    fetched = set(resolve_bands([b.strip() for b in listed.split(",") if b.strip()]))
    missing = [b for b in version.bands if b not in fetched]
    if missing:
        raise ConfigError(
            f"version {version.name!r} reads {', '.join(missing)}, which AOI {aoi!r} does not "
            f"fetch (its source fetches {listed}); register the AOI again with that model"
        )


@dataclass(frozen=True)
class Promotion:
    """What :func:`promote` did."""

    aoi: str
    version: ModelVersion
    previous: str
    """Name of the AOI's model before."""
    switched: bool
    """False when the AOI already used the version."""
    forced: bool
    """True when the gate refused (or had no benchmark) and ``force`` overrode it."""
    comparison: Comparison | None


def promote(
    settings: HomeSettings, plan: PromotionPlan, comparison: Comparison | None, force: bool
) -> Promotion:
    """Switch the AOI to the version when the gate lets it through (or ``force``), record
    the promotion and the scores; ConfigError saying why when refused."""
    from slidewatch.monitoring.registry import Registry

    version, (current_name, _, current_hash) = plan.version, plan.current
    if version.hash == current_hash:
        return Promotion(plan.aoi, version, current_name, False, False, comparison)
    if comparison is not None and (comparison.new.hash, comparison.current.hash) != (
        version.hash, current_hash):  # fmt: skip
        raise ConfigError("the comparison was not made between these two versions; compare again")
    passed = comparison is not None and comparison.promotable
    if not passed and not force:
        raise ConfigError(refusal(plan, comparison))
    store = model_store(settings)
    if comparison is not None:
        _record_scores(store, comparison, {version.name, current_name})
    with Registry(settings.layout.created().registry_url) as registry:
        registry.update_aoi(plan.aoi, model_path=str(version.path), model_hash=version.hash)
    store.log_promotion({
        "aoi": plan.aoi, "to": version.summary(), "from": {"name": current_name,
        "hash": current_hash}, "forced": not passed,
        "verdict": str(comparison.verdict) if comparison else None,
        "comparison": comparison.to_dict() if comparison else None,
    })  # fmt: skip
    return Promotion(plan.aoi, version, current_name, True, not passed, comparison)


def refusal(plan: PromotionPlan, comparison: Comparison | None) -> str:
    """Why the gate stops a promotion, and what to do."""
    if comparison is None:
        return (
            f"AOI {plan.aoi!r} has no benchmark to judge {plan.version.name!r} on: give one "
            "with --data, or name one with 'slidewatch models benchmark DIR --aoi "
            f"{plan.aoi}'; --force promotes without judging (recorded)"
        )
    low, high = comparison.interval
    return (
        f"{plan.version.name!r} is worse than {plan.current[0]!r} on the benchmark: F1 "
        f"{comparison.new.pixel['f1']:.3f} vs {comparison.current.pixel['f1']:.3f} (difference "
        f"{comparison.f1_difference:+.3f}, 95 % interval {low:+.3f}..{high:+.3f}); AOI "
        f"{plan.aoi!r} keeps its model. --force promotes anyway (recorded)"
    )


def _record_scores(store: ModelStore, comparison: Comparison, names: set[str]) -> None:
    stored = set(store.names())
    for scores in (comparison.new, comparison.current):
        if scores.name in names & stored:
            store.record_benchmark(scores.name, comparison.benchmark,
                                   {**scores.pixel, "losses": scores.losses,
                                    "patches": comparison.patches})  # fmt: skip


def record_comparison(settings: HomeSettings, comparison: Comparison) -> None:
    """Write both versions' scores on the benchmark into their items (stored ones only)."""
    _record_scores(model_store(settings), comparison,
                   {comparison.new.name, comparison.current.name})  # fmt: skip
