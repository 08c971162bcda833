"""A small monitored area for the service tests, recorded through the monitoring registry.

Two runs of one AOI (near Chittagong, UTM 46N, 10 m pixels): the first sees two landslides,
the second sees them again (one grown) plus a new one. Rasters are COGs written the way the
detection writes them (probability float32, landslides uint8 with 255 = no data, an RGB
float32 stack) under ``<archive>/<aoi>/<date>/``; rows go in through the registry's session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.features import shapes
from rasterio.transform import from_origin
from rasterio.warp import transform_geom
from rio_cogeo.cogeo import cog_translate
from rio_cogeo.profiles import cog_profiles

from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.tables import Alert, Aoi, Change, Detection, Landslide, Run

CRS = "EPSG:32646"
ORIGIN = (380_600.0, 2_483_100.0)  # UTM 46N, about 91.84 E, 22.45 N
PIXEL_M = 10.0
SIZE = 256
AOI_NAME = "chittagong"
DATES = ("2024-06-01", "2024-06-11")
# (row0, col0, size) of each landslide per run: run 2 grows the first and adds a third
SQUARES = (
    [(40, 40, 30), (150, 160, 24)],
    [(40, 40, 44), (150, 160, 24), (200, 60, 28)],
)


@dataclass(frozen=True)
class Fixture:
    home: Path
    db_url: str
    archive: Path
    run_ids: tuple[int, ...]
    aoi: str = AOI_NAME


def write_cog(path: Path, data: np.ndarray, nodata: float, resampling: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".raw.tif")
    profile = {
        "driver": "GTiff",
        "width": data.shape[-1],
        "height": data.shape[-2],
        "count": data.shape[0],
        "dtype": data.dtype.name,
        "crs": CRS,
        "nodata": nodata,
        "transform": from_origin(*ORIGIN, PIXEL_M, PIXEL_M),
    }
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data)
    cog_translate(
        str(tmp), str(path), cog_profiles.get("deflate"), overview_resampling=resampling, quiet=True
    )
    tmp.unlink()


def rasters(squares: list[tuple[int, int, int]], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    for r, c, s in squares:
        mask[r : r + s, c : c + s] = 1
    prob = np.clip(rng.normal(0.08, 0.04, mask.shape), 0, 1).astype(np.float32)
    prob[mask == 1] = 0.9
    rgb = rng.uniform(0.3, 0.6, (3, SIZE, SIZE)).astype(np.float32)
    rgb[1] += 0.3 * (1 - mask)  # green vegetation, brown scars
    mask[:, -8:] = 255  # a strip the satellite did not see
    return {"landslides": mask[None], "probability": prob[None], "rgb": rgb}


def polygons(mask: np.ndarray) -> list[dict[str, Any]]:
    transform = from_origin(*ORIGIN, PIXEL_M, PIXEL_M)
    found = shapes(mask, mask=mask == 1, transform=transform)
    return [transform_geom(CRS, "EPSG:4326", g) for g, v in found if v == 1]


def aoi_geometry() -> dict[str, Any]:
    x0, y0 = ORIGIN
    x1, y1 = x0 + SIZE * PIXEL_M, y0 - SIZE * PIXEL_M
    ring = [[x0 + 50, y0 - 50], [x1 - 50, y0 - 50], [x1 - 50, y1 + 50], [x0 + 50, y1 + 50]]
    poly = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    geom = transform_geom(CRS, "EPSG:4326", poly, precision=7)
    return {"type": "Polygon", "coordinates": [[list(p) for p in geom["coordinates"][0]]]}


def build(home: Path, model_dir: Path) -> Fixture:
    """Record the AOI, its two runs, landslides, changes and one alert per new landslide."""
    from slidewatch.models.modelfile import model_hash
    from slidewatch.monitoring.aois import AoiSettings

    archive = home / "archive"
    db_url = f"sqlite:///{home / 'registry.db'}"
    registry = Registry(db_url)
    aoi = registry.add_aoi(
        AoiSettings(
            name=AOI_NAME,
            geometry=aoi_geometry(),
            model_path=str(model_dir),
            model_hash=model_hash(model_dir),
        )
    )
    run_ids: list[int] = []
    identity: dict[int, int] = {}  # square index -> landslide id
    for k, (day, squares) in enumerate(zip(DATES, SQUARES, strict=True)):
        run_ids.append(_record_run(registry, aoi, archive, k, day, squares, identity))
    registry.close()
    return Fixture(home, db_url, archive, tuple(run_ids))


def _record_run(
    registry: Registry,
    aoi: Aoi,
    archive: Path,
    k: int,
    day: str,
    squares: list[tuple[int, int, int]],
    identity: dict[int, int],
) -> int:
    folder = archive / AOI_NAME / day
    products = {}
    for name, data in rasters(squares, k).items():
        nodata = 255 if name == "landslides" else float("nan")
        write_cog(folder / f"{name}.tif", data, nodata, "nearest" if nodata == 255 else "average")
        products[f"{name}.tif"] = str(folder / f"{name}.tif")
    scenes = [
        {"id": f"S2A_MSIL2A_{day.replace('-', '')}T043711_T46QBL", "datetime": f"{day}T04:37:11Z"}
    ]
    when = datetime.fromisoformat(f"{day}T12:00:00+00:00").astimezone(UTC)
    with registry.session() as s:
        run = Run(
            aoi_id=aoi.id,
            acquisition_key=f"{day}:{k}",
            acquisition_date=day,
            scenes=scenes,
            cloud_pct=3.0,
            state="done",
            model_hash=aoi.model_hash,
            created_at=when,
            started_at=when,
            finished_at=when,
            products=products,
        )
        s.add(run)
        s.flush()
        masks = rasters(squares, k)["landslides"][0]
        for i, (r, c, size) in enumerate(squares):
            single = np.zeros_like(masks)
            single[r : r + size, c : c + size] = 1
            geometry = polygons(single)[0]
            area = float(size * size * PIXEL_M**2)
            kind = (
                "new"
                if i not in identity
                else ("grown" if size > SQUARES[0][i][2] else "unchanged")
            )
            if i not in identity:
                slide = Landslide(
                    aoi_id=aoi.id,
                    first_run_id=run.id,
                    last_run_id=run.id,
                    first_seen=day,
                    last_seen=day,
                    area_m2=area,
                    geometry=geometry,
                )
                s.add(slide)
                s.flush()
                identity[i] = slide.id
                s.add(
                    Alert(
                        aoi_id=aoi.id,
                        run_id=run.id,
                        landslide_id=slide.id,
                        created_at=when,
                        payload={"aoi": AOI_NAME, "area_m2": area, "acquisition_date": day},
                    )
                )
            else:
                slide = s.get_one(Landslide, identity[i])
                slide.last_run_id, slide.last_seen, slide.area_m2 = run.id, day, area
            s.add(
                Detection(
                    run_id=run.id,
                    landslide_id=identity[i],
                    geometry=geometry,
                    area_m2=area,
                    mean_probability=0.9,
                )
            )
            if k > 0:
                s.add(
                    Change(
                        run_id=run.id,
                        landslide_id=identity[i],
                        kind=kind,
                        area_m2=area,
                        changed_area_m2=area if kind == "new" else 0.0,
                        geometry=geometry,
                    )
                )
        return run.id
