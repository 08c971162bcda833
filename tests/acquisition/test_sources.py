"""The source seam: per-source options registered by kind, their JSON form (older rows
included), sources that answer for themselves, and no kind checks outside them."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import slidewatch.acquisition
from slidewatch.acquisition.options import (
    SOURCE_KINDS,
    EarthEngineConfig,
    SourceConfig,
    StacConfig,
)
from slidewatch.acquisition.sources import kept_source, make_source
from slidewatch.errors import ConfigError

from .conftest import Catalogue


def test_each_kind_round_trips_through_its_json_form() -> None:
    stac = StacConfig(stac_url="http://127.0.0.1:9/", max_cloud=12, asset_keys=(("B4", "red"),))
    gee = EarthEngineConfig(gee_project="p", bands="six10m")
    for config in (stac, gee):
        text = json.dumps(config.to_dict())
        assert SourceConfig.from_dict(json.loads(text)) == config
    assert stac.to_dict()["kind"] == "stac" and gee.to_dict()["kind"] == "gee"
    assert "gee_project" not in stac.to_dict() and "stac_url" not in gee.to_dict()
    assert SourceConfig.from_dict({}) == StacConfig()  # Earth Search
    assert SourceConfig.from_dict({"kind": "gee"}).collection == "COPERNICUS/S2_HARMONIZED"
    assert {stac, StacConfig(**{**vars(stac)})} == {stac}  # hashable: kept per value


def test_a_miss_in_the_registry_lists_the_kinds_and_options() -> None:
    with pytest.raises(ConfigError, match=r"unknown source kind 'folder'; valid: stac, gee"):
        SourceConfig.from_dict({"kind": "folder"})
    with pytest.raises(ConfigError, match=r"unknown source option\(s\) colour; valid: .*stac_url"):
        SourceConfig.from_dict({"colour": "red"})
    with pytest.raises(ConfigError, match=r"gee_project belongs to source kind 'gee', not 'stac'"):
        SourceConfig.from_dict({"kind": "stac", "gee_project": "mine"})
    with pytest.raises(TypeError, match="make a StacConfig or an EarthEngineConfig"):
        SourceConfig()
    assert sorted(SOURCE_KINDS) == ["gee", "stac"]


def test_rows_written_before_the_options_were_split_are_read() -> None:
    """Older versions wrote every option of every kind, and ``extra``."""
    old_gee = {"kind": "gee", "stac_url": "https://earth-search.aws.element84.com/v1",
               "collection": "COPERNICUS/S2_SR_HARMONIZED",
               "dem_collection": "COPERNICUS/DEM/GLO30",
               "max_cloud": 40.0, "bands": "l2a", "composite": "median", "asset_keys": {},
               "cloud_mask": "auto", "dn_offset": "auto", "gee_project": "proj",
               "timeout_s": 30.0, "retries": 4, "extra": {}}  # fmt: skip
    config = SourceConfig.from_dict(old_gee)
    assert config == EarthEngineConfig(
        collection="COPERNICUS/S2_SR_HARMONIZED", max_cloud=40.0, bands="l2a",
        composite="median", gee_project="proj",
    )  # fmt: skip
    old_stac = {**old_gee, "kind": "stac", "collection": "sentinel-2-l2a",
                "dem_collection": "cop-dem-glo-30", "gee_project": None, "retries": 2}  # fmt: skip
    assert SourceConfig.from_dict(old_stac) == StacConfig(
        max_cloud=40.0, bands="l2a", composite="median", retries=2
    )


def test_sources_answer_for_themselves_without_the_network(
    catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("ee")
    import slidewatch.acquisition.earthengine.source as gee_source

    def no_service(project: str | None) -> None:
        raise AssertionError("Earth Engine initialised before a search")

    monkeypatch.setattr(gee_source, "initialize", no_service)
    sr = make_source(EarthEngineConfig(collection="COPERNICUS/S2_SR_HARMONIZED"))
    assert sr.serves_b10() is False and sr.auto_cloud_mask([]) == "probability"
    assert sr.catalogue == "Earth Engine"
    assert sr.provenance() == {"slidewatch:source": "gee", "slidewatch:stac_url": ""}
    static = make_source(StacConfig(stac_url=str(catalogue.path)))
    assert static.serves_b10() is True  # its first item has a B10 asset
    assert static.provenance()["slidewatch:stac_url"] == str(catalogue.path)
    api = make_source(StacConfig(stac_url="http://127.0.0.1:9/", collection="mine"))
    assert api.serves_b10() is None and api.catalogue == "http://127.0.0.1:9/"


def test_a_kept_source_is_one_per_options_value(catalogue: Catalogue) -> None:
    config = StacConfig(stac_url=str(catalogue.path))
    assert kept_source(config) is kept_source(StacConfig(stac_url=str(catalogue.path)))
    assert kept_source(config) is not kept_source(
        StacConfig(stac_url=str(catalogue.path), retries=1)
    )


SOURCE_NAMES = ("config", "source", "options", "source_config")
SOURCE_TYPES = ("StacConfig", "EarthEngineConfig", "StacSource", "EarthEngineSource")


def _names_a_source(node: ast.expr) -> bool:
    """``config``, ``self.config``, ``aoi.source`` …: an expression that names a source."""
    if isinstance(node, ast.Name):
        return node.id in SOURCE_NAMES
    return isinstance(node, ast.Attribute) and node.attr in SOURCE_NAMES


def kind_decisions(tree: ast.AST) -> list[tuple[int, str]]:
    """Where a module decides by a source's kind: ``<source>.kind`` compared, ``is_static``
    called, ``isinstance`` of a source's type."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                if (
                    isinstance(side, ast.Attribute)
                    and side.attr == "kind"
                    and (_names_a_source(side.value))
                ):
                    found.append((node.lineno, "compares a source's kind"))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "is_static":
                found.append((node.lineno, "calls is_static"))
            if node.func.id == "isinstance" and any(
                isinstance(n, ast.Name) and n.id in SOURCE_TYPES for n in ast.walk(node.args[1])
            ):
                found.append((node.lineno, "tests a source's type"))
    return found


def test_the_check_finds_a_kind_decision() -> None:
    probe = "if config.kind == 'gee':\n    pass\nx = is_static(u) or isinstance(c, StacConfig)\n"
    assert [why for _, why in kind_decisions(ast.parse(probe))] == [
        "compares a source's kind", "calls is_static", "tests a source's type"
    ]  # fmt: skip


def test_nothing_outside_the_sources_decides_by_kind() -> None:
    """The seam stays sealed: outside the sources' own packages, nothing asks which kind a
    source is; it asks the source (catalogue, provenance, B10, cloud mask, …)."""
    root = Path(slidewatch.acquisition.__file__).parents[1]
    wrong = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("acquisition/stac/", "acquisition/earthengine/")):
            continue
        wrong += [
            f"{rel}:{line} {why}" for line, why in kind_decisions(ast.parse(path.read_text()))
        ]
    assert wrong == []
