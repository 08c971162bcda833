"""What a stack was made from: GeoTIFF tags and a STAC item written beside the stack."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slidewatch import __version__
from slidewatch.atomic import write_text_atomic

if TYPE_CHECKING:
    from slidewatch.acquisition.acquisitions import Acquisition
    from slidewatch.acquisition.options import SourceConfig


@dataclass(frozen=True)
class Provenance:
    """Everything recorded about how a stack was made."""

    config: SourceConfig
    source: Mapping[str, str]
    """What the source records of itself (``slidewatch:source``, ``slidewatch:stac_url``)."""
    acquisitions: tuple[Acquisition, ...]
    bands: tuple[str, ...]
    cloud_mask: str
    cloud_cover_aoi: tuple[float | None, ...]
    """Per acquisition: % of the AOI's pixels with data that were cloud, shadow or cirrus."""
    clear_fraction: float
    """Fraction of the AOI's pixels that hold values in the composite."""
    dem_source: str | None
    command: str | None
    band_note: str = ""
    """Why ``--bands auto`` left a band out (B10 of L2A); empty when nothing was."""

    @property
    def scene_ids(self) -> tuple[str, ...]:
        return tuple(i for a in self.acquisitions for i in a.scene_ids)

    def properties(self) -> dict[str, Any]:
        """Flat JSON-serialisable record (STAC item properties under ``slidewatch:``)."""
        acqs = self.acquisitions
        scenes = [s for a in acqs for s in a.scenes]
        return {
            "slidewatch:version": __version__,
            "slidewatch:command": self.command or "",
            **self.source,
            "slidewatch:collection": self.config.collection,
            "slidewatch:composite": self.config.composite,
            "slidewatch:cloud_mask": self.cloud_mask,
            "slidewatch:max_cloud": self.config.max_cloud,
            "slidewatch:scale": "l4s",
            "slidewatch:bands": list(self.bands),
            "slidewatch:bands_requested": self.config.bands,
            "slidewatch:bands_note": self.band_note,
            "slidewatch:scene_ids": list(self.scene_ids),
            "slidewatch:datetimes": [s.datetime.isoformat() for a in acqs for s in a.scenes],
            "slidewatch:processing_baselines": [b for a in acqs for b in a.processing_baselines],
            "slidewatch:cloud_cover_scene": [s.cloud_cover for a in acqs for s in a.scenes],
            "slidewatch:cloud_cover_aoi": list(self.cloud_cover_aoi),
            "slidewatch:clear_fraction": round(self.clear_fraction, 6),
            "slidewatch:offset_removed": [f"{s.id}: {s.offset_rule}" for s in scenes],
            "slidewatch:dem_source": self.dem_source or "",
            "slidewatch:resampling": "spectral and SCL nearest, DEM bilinear",
        }

    def tags(self) -> dict[str, str]:
        """GeoTIFF tags: ``SLIDEWATCH_SCALE=l4s`` (read by ``detect --scale auto``) and the
        properties, upper-case, lists as JSON."""
        tags = {"SLIDEWATCH_SCALE": "l4s"}
        for key, value in self.properties().items():
            name = key.split(":", 1)[1].upper()
            tags[name] = value if isinstance(value, str) else json.dumps(value)
        return tags


def write_stac_item(
    raster: Path,
    final: Path,
    mask: Path,
    item_path: Path,
    provenance: Provenance,
    mask_classes: Mapping[int, str],
    picture: Path | None = None,
) -> Path:
    """A STAC item for the stack at ``final`` (read from ``raster``, its temporary name),
    with its mask and picture as assets."""
    import pystac
    from rio_stac import create_stac_item

    acqs = provenance.acquisitions
    start, end = acqs[0].datetime, acqs[-1].datetime
    item = create_stac_item(
        str(raster),
        input_datetime=end,
        id=final.stem,
        asset_name="stack",
        asset_href=final.name,
        asset_roles=["data"],
        asset_media_type=pystac.MediaType.GEOTIFF,
        properties=provenance.properties()
        | {"start_datetime": start.isoformat(), "end_datetime": end.isoformat()},
        with_proj=True,
        with_raster=False,
        with_eo=False,
    )
    item.add_asset(
        "mask",
        pystac.Asset(
            href=mask.name,
            media_type=pystac.MediaType.GEOTIFF,
            roles=["cloud"],
            extra_fields={
                "classification:classes": [
                    {"value": v, "description": d} for v, d in mask_classes.items()
                ]
            },
        ),
    )
    if picture is not None:
        item.add_asset(
            "picture",
            pystac.Asset(href=picture.name, media_type=pystac.MediaType.PNG, roles=["overview"]),
        )
    item.assets["stack"].extra_fields["slidewatch:bands"] = list(provenance.bands)
    text = json.dumps(item.to_dict(include_self_link=False, transform_hrefs=False), indent=2)
    return write_text_atomic(item_path, text + "\n")


def band_tags(bands: Sequence[str]) -> list[dict[str, str]]:
    """Per-band tags: the L4S name and divisor of each band."""
    from slidewatch.bands import scale_vector

    scales = scale_vector(bands)
    return [{"L4S_NAME": b, "L4S_SCALE": f"{s:.8f}"} for b, s in zip(bands, scales, strict=True)]
