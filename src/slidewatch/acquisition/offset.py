"""The Sentinel-2 radiometric offset of processing baseline 04.00, decided once per scene.

From baseline 04.00 (products from 2022-01-25 on) digital numbers carry +1000 (L1C
``RADIO_ADD_OFFSET``, L2A ``BOA_ADD_OFFSET`` = -1000): reflectance = (DN - 1000) / 10000.
The L4S scale was defined on the old numbers, so the offset is subtracted before scaling —
exactly once. *Harmonized* collections (Earth Engine's ``*_HARMONIZED``, catalogues that say
the offset was applied) already subtracted it. Each rule returns the offset in digital
numbers and a sentence saying why, which goes into the stack's provenance.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from slidewatch.errors import SourceError

if TYPE_CHECKING:
    from slidewatch.acquisition.stac.items import RasterBand

BASELINE_04_DATE = date(2022, 1, 25)
"""First day of products with processing baseline 04.00 (and the +1000 offset)."""
OFFSET_DN = 1000.0
REFLECTANCE_SCALE = 1e-4
"""Reflectance per digital number of Sentinel-2 products."""


def baseline_has_offset(baseline: str) -> bool:
    """Whether processing baseline ``"NN.NN"`` carries the +1000 offset (04.00 and later)."""
    try:
        return float(baseline) >= 4.0
    except ValueError as exc:
        raise SourceError(
            f"processing baseline {baseline!r} is not a number like '04.00'; "
            "set --dn-offset 0 or 1000 to decide for the catalogue"
        ) from exc


def forced_offset(value: str) -> tuple[float, str]:
    """The offset given by the user (``--dn-offset 0|1000``)."""
    return float(value), f"{float(value):g} DN removed as forced by --dn-offset {value}"


def date_rule_offset(when: datetime, harmonized: bool) -> tuple[float, str]:
    """Earth Engine's rule: non-harmonized collections carry the offset from 2022-01-25."""
    if harmonized:
        return 0.0, "none removed: a harmonized collection already removed the offset"
    if when.date() >= BASELINE_04_DATE:
        return OFFSET_DN, (
            f"1000 DN removed: non-harmonized scene sensed on/after {BASELINE_04_DATE} "
            "(baseline 04.00)"
        )
    return 0.0, f"none removed: sensed before {BASELINE_04_DATE} (baselines before 04.00)"


def _raster_offsets(raster_bands: Sequence[RasterBand]) -> set[float]:
    found = set()
    for rb in raster_bands:
        if rb.offset is not None:
            scale = rb.scale or REFLECTANCE_SCALE
            found.add(round(-rb.offset / scale, 3) + 0.0)
    return found


def stac_offset(
    item_id: str,
    when: datetime,
    *,
    baseline: str = "",
    raster_bands: Sequence[RasterBand] = (),
    offset_applied: bool = False,
) -> tuple[float, str]:
    """The offset of a STAC item, from (in order): a catalogue flag saying it was applied
    (``earthsearch:boa_offset_applied``), the spectral assets' ``raster:bands`` offset/scale,
    ``s2:processing_baseline``, and finally the sensing date when it is before 2022-01-25
    (no baseline before then had an offset). A later item saying nothing is an error:
    guessing would be silent."""
    if offset_applied:
        return 0.0, "none removed: earthsearch:boa_offset_applied says the catalogue removed it"
    offsets = _raster_offsets(raster_bands)
    if len(offsets) > 1:
        raise SourceError(
            f"item {item_id}: its bands' raster:bands offsets differ ({sorted(offsets)} DN); "
            "set --dn-offset 0 or 1000"
        )
    if offsets:
        value = offsets.pop()
        said = f"{value:g} DN removed" if value else "none removed"
        return value, f"{said}: raster:bands offset of item {item_id}"
    if baseline:
        if baseline_has_offset(baseline):
            return OFFSET_DN, f"1000 DN removed: s2:processing_baseline {baseline} >= 04.00"
        return 0.0, f"none removed: s2:processing_baseline {baseline} < 04.00"
    if when.date() < BASELINE_04_DATE:
        return 0.0, f"none removed: sensed before {BASELINE_04_DATE} (baselines before 04.00)"
    raise SourceError(
        f"item {item_id} (sensed {when.date()}) states neither raster:bands offset nor "
        "s2:processing_baseline, so whether its values carry +1000 is unknown; "
        "set --dn-offset 1000 (raw products) or 0 (harmonized)"
    )
