"""What a detection is asked (:class:`DetectOptions`) and what it reports
(:class:`DetectionSummary`, written as ``summary.json``).

The options a model decides — windows of its patch size, a quarter of a window's overlap —
are decided here, in :meth:`DetectOptions.for_model`, for every caller: the ``detect``
command, the monitoring look, the OGC ``detect`` job and the demo.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from slidewatch.errors import ConfigError
from slidewatch.inference.polygons import MIN_AREA_M2

if TYPE_CHECKING:
    from pathlib import Path

    from slidewatch.models.modelfile import ModelSpec
    from slidewatch.scene import Scene

OVERLAP_SHARE = 4
"""Windows overlap by a quarter of their side by default: seams measured 0.95-1.01× at 25 %
against 0.96-0.99× at 50 %, which costs 2.3× the windows (docs/benchmarks.md)."""


@dataclass(frozen=True)
class DetectOptions:
    """How to run a detection. ``None`` fields are decided by the model
    (:meth:`for_model`) or by the engine that runs it."""

    tile_px: int | None = None
    """Window side; None: the model's patch size."""
    overlap_px: int | None = None
    """Overlap of neighbouring windows; None: a quarter of the window."""
    batch_size: int = 8
    """Windows per forward pass."""
    device: str = "cpu"
    """``cpu``, ``cuda[:N]`` or ``auto``."""
    engine: str = "auto"
    """``auto``, ``onnx`` or ``torch``."""
    band_order: Sequence[str] | str | None = None
    """The L4S band of each scene band, when the files' descriptions do not say."""
    scale: str | None = None
    """``l4s``, ``none``, or None: the scaling rule decides."""
    min_area_m2: float = MIN_AREA_M2
    """Polygons smaller than this (local UTM) are dropped and counted."""
    dask_workers: int | None = None
    """Run on a local Dask cluster of this many worker processes."""
    dask_address: str | None = None
    """Run on the Dask cluster at this address."""
    gpkg: bool = False
    """Also write ``landslides.gpkg``."""
    grid_offset: tuple[int, int] = (0, 0)
    """Shift of the window grid (for experiments; outputs barely change)."""
    panel_px: int | None = None
    """Columns processed at once; None: :data:`slidewatch.inference.panels.PANEL_PX`."""
    strict: bool = False
    """A data-contract mismatch stops the run instead of warning."""

    def for_model(self, spec: ModelSpec) -> DetectOptions:
        """These options with what the model decides filled in (windows of its patch size, a
        quarter overlap) and the panel width, checked."""
        from slidewatch.inference.panels import PANEL_PX

        tile = self.tile_px or spec.patch_size
        options = replace(
            self,
            tile_px=tile,
            overlap_px=tile // OVERLAP_SHARE if self.overlap_px is None else self.overlap_px,
            panel_px=PANEL_PX if self.panel_px is None else self.panel_px,
        )
        options.check()
        return options

    @property
    def window(self) -> tuple[int, int]:
        """(window side, overlap) in pixels, as decided by :meth:`for_model`."""
        if self.tile_px is None or self.overlap_px is None:
            raise ConfigError("the window is not decided yet; call for_model(spec) first")
        return self.tile_px, self.overlap_px

    def check(self) -> None:
        """ConfigError naming the option for values no run can use."""
        if self.batch_size < 1:
            raise ConfigError(f"--batch-size {self.batch_size} must be at least 1")
        if self.panel_px is not None and self.panel_px < 1:
            raise ConfigError(f"panel width {self.panel_px} must be at least 1 pixel")
        if self.dask_workers is not None and self.dask_workers < 1:
            raise ConfigError(f"--dask-workers {self.dask_workers} must be at least 1")

    def to_summary(self) -> dict[str, Any]:
        """The ``options`` entry of ``summary.json`` (after :meth:`for_model`)."""
        return {
            "tile": self.tile_px,
            "overlap": self.overlap_px,
            "batch_size": self.batch_size,
            "device": self.device,
            "engine": self.engine,
            "dask_workers": self.dask_workers,
            "dask_address": self.dask_address,
            "grid_offset": list(self.grid_offset),
            "panel_px": self.panel_px,
            "min_area_m2": self.min_area_m2,
            "gpkg": self.gpkg,
            "strict": self.strict,
        }


@dataclass(frozen=True)
class DroppedPolygons:
    """Regions under the minimum area: how many, their area, the minimum."""

    count: int
    area_m2: float
    min_area_m2: float


@dataclass(frozen=True)
class SceneRecord:
    """The scene a detection read."""

    paths: tuple[str, ...]
    crs: str
    width: int
    height: int
    transform: tuple[float, ...]
    """The first six affine coefficients (rasterio's order)."""
    bands: tuple[str, ...]
    scaled_to_l4s: bool
    windows: int
    """Windows of the grid run over the scene."""

    @classmethod
    def of(cls, scene: Scene, windows: int) -> SceneRecord:
        return cls(
            paths=tuple(str(p) for p in scene.paths),
            crs=scene.crs.to_string(),
            width=scene.width,
            height=scene.height,
            transform=tuple(scene.transform)[:6],
            bands=tuple(scene.bands),
            scaled_to_l4s=scene.to_l4s,
            windows=windows,
        )


@dataclass(frozen=True)
class ModelRecord:
    """The model a detection ran."""

    path: str
    architecture: str
    bands: tuple[str, ...]
    threshold: float
    patch_size: int

    @classmethod
    def of(cls, path: str | Path, spec: ModelSpec) -> ModelRecord:
        return cls(str(path), spec.architecture, tuple(spec.bands), spec.threshold,
                   spec.patch_size)  # fmt: skip


@dataclass(frozen=True)
class DetectionSummary:
    """What a detection found and how it ran; :meth:`to_dict` is ``summary.json``."""

    landslide_area_km2: float
    """Area of the polygons kept (local UTM)."""
    polygon_count: int
    dropped_polygons: DroppedPolygons
    landslide_pixels: int
    scene_area_km2: float
    """Area of the valid pixels."""
    scene: SceneRecord
    input_sha256: Mapping[str, str]
    model: ModelRecord
    data_contract: Mapping[str, Any]
    """The data-contract check (:mod:`slidewatch.inference.contract`)."""
    options: DetectOptions
    """The options run, decided (device and engine as resolved)."""
    timings_s: Mapping[str, float]
    outputs: tuple[str, ...]
    """File names written into the output folder, ``summary.json`` included."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``summary.json``): plain dicts and lists, keys in a fixed order."""
        scene, model = self.scene, self.model
        return {
            "landslide_area_km2": self.landslide_area_km2,
            "polygon_count": self.polygon_count,
            "dropped_polygons": {
                "count": self.dropped_polygons.count,
                "area_m2": self.dropped_polygons.area_m2,
                "min_area_m2": self.dropped_polygons.min_area_m2,
            },
            "landslide_pixels": self.landslide_pixels,
            "scene_area_km2": self.scene_area_km2,
            "scene": {
                "paths": list(scene.paths),
                "crs": scene.crs,
                "width": scene.width,
                "height": scene.height,
                "transform": list(scene.transform),
                "bands": list(scene.bands),
                "scaled_to_l4s": scene.scaled_to_l4s,
                "windows": scene.windows,
            },
            "input_sha256": dict(self.input_sha256),
            "model": {
                "path": model.path,
                "architecture": model.architecture,
                "bands": list(model.bands),
                "threshold": model.threshold,
                "patch_size": model.patch_size,
            },
            "data_contract": dict(self.data_contract),
            "options": self.options.to_summary(),
            "timings_s": dict(self.timings_s),
            "outputs": list(self.outputs),
        }
