"""One dataset folder being labeled: its patches, their states, views, masks and saves.

A thin class over the pure parts (:mod:`.patches`, :mod:`.views`, :mod:`.context`,
:mod:`.store`, :mod:`.suggestions`) that the web router and the CLI share. Unknown patch
keys raise :class:`PatchNotFound` (a KeyError), never touch the file system.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from slidewatch.data.hdf5 import read_image, read_mask
from slidewatch.data.patch_index import pre_image_path
from slidewatch.errors import DatasetError, SlidewatchError
from slidewatch.labeling.context import DEFAULT_MARGIN_PX, Context, NoContext, scene_context
from slidewatch.labeling.patches import PatchInfo, find_patches, progress, state_of
from slidewatch.labeling.store import LabelStore, LogEntry, PatchState
from slidewatch.labeling.suggestions import FRAME_PX, Suggester, Suggestion, fraction_changed
from slidewatch.labeling.views import available_combinations, render, to_uint8


class PatchNotFound(SlidewatchError, KeyError):
    """A patch key that is not a patch of the dataset."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class LoadedMask:
    """The mask a page starts from."""

    mask: np.ndarray
    version: int
    state: str
    source: str
    """``draft``, ``dataset`` (the layout's mask file), ``suggestion`` or ``empty``."""
    problem: str | None = None
    """Why the stored mask could not be used (unreadable, or not the image's size)."""


START_FROM = ("mask", "suggestion")
"""Where a patch without a draft starts: its stored mask (the default; the model's suggestion
where there is none), or the model's suggestion (the stored mask stays one click away)."""


class Workspace:
    """The labeling state of one dataset folder."""

    def __init__(
        self,
        root: Path,
        model_dir: Path | None = None,
        name: str | None = None,
        start_from: str = "mask",
    ):
        if start_from not in START_FROM:
            raise DatasetError(f"unknown start {start_from!r}; valid: {', '.join(START_FROM)}")
        if start_from == "suggestion" and model_dir is None:
            raise DatasetError("starting from the suggestion needs a model; give --model RUN/model")
        self.start_from = start_from
        self.root = Path(root)
        self.name = name or self.root.resolve().name
        self.store = LabelStore(self.root)
        self.suggester = Suggester(model_dir) if model_dir is not None else None
        self._patches: dict[str, PatchInfo] | None = None
        self._lock = threading.Lock()

    def patches(self, refresh: bool = False) -> dict[str, PatchInfo]:
        """Key -> patch, in file order (DatasetError when the folder holds no patches)."""
        with self._lock:
            if self._patches is None or refresh:
                self._patches = {p.key: p for p in find_patches(self.root)}
            return self._patches

    def patch(self, key: str) -> PatchInfo:
        """The patch ``key``; PatchNotFound for anything else (including ``../`` paths)."""
        found = self.patches().get(key)
        if found is None:
            raise PatchNotFound(f"no patch {key!r} in dataset {self.name}; pick one from the list")
        return found

    def listing(self, order: str = "file") -> dict[str, Any]:
        """Every patch with its state, and the progress counts; ``order``: ``file`` or
        ``uncertain`` (most uncertain first, needs a model)."""
        infos = list(self.patches().values())
        logged = self.store.states()
        states = [state_of(i, logged) for i in infos]
        rows = [_row(i, s) for i, s in zip(infos, states, strict=True)]
        if order == "uncertain":
            rows = self._by_uncertainty(infos, rows)
        elif order != "file":
            raise DatasetError(f"unknown order {order!r}; valid: file, uncertain")
        return {"patches": rows, "progress": vars(progress(infos, states))}

    def _by_uncertainty(self, infos: list[PatchInfo], rows: list[dict[str, Any]]) -> list[Any]:
        if self.suggester is None:
            raise DatasetError("'most uncertain first' needs a model; start with --model RUN/model")
        for info, row in zip(infos, rows, strict=True):
            if info.error is None:
                try:
                    row["uncertainty"] = round(self.suggestion(info.key).uncertainty, 6)
                except SlidewatchError as exc:
                    row["suggestion_error"] = str(exc)
        return sorted(rows, key=lambda r: -r.get("uncertainty", -1.0))

    def image(self, key: str) -> tuple[PatchInfo, np.ndarray]:
        """The patch and its H×W×C L4S image (DatasetError, remembered, when unreadable)."""
        info = self.patch(key)
        if info.error is not None:
            raise DatasetError(info.error)
        try:
            return info, read_image(info.image)
        except DatasetError as exc:
            self._mark_error(info, str(exc))
            raise

    def _mark_error(self, info: PatchInfo, error: str) -> None:
        from dataclasses import replace

        with self._lock:
            if self._patches is not None:
                self._patches[info.key] = replace(info, error=error)

    def describe(self, key: str) -> dict[str, Any]:
        """What the page needs to open a patch: bands, combinations, size, state, mask info."""
        info, image = self.image(key)
        st = state_of(info, self.store.states())
        combos = [{"name": c.name, "title": c.title} for c in available_combinations(info.bands)]
        ctx = scene_context(self.root, key, image, info.bands, DEFAULT_MARGIN_PX)
        return {
            **_row(info, st),
            "bands": list(info.bands),
            "combinations": combos,
            "context": (
                {"available": True, "margin_px": ctx.margin_px, "scene": ctx.scene}
                if isinstance(ctx, Context)
                else {"available": False, "reason": ctx.reason}
            ),
            "model": self.suggester is not None,
            "pre": {"available": pre_image_path(info.image).is_file()},
        }

    def view(self, key: str, combo: str, low: float, high: float, with_context: bool,
             pre: bool = False) -> np.ndarray:  # fmt: skip
        """H×W×3 uint8 of combination ``combo``; with context, the larger view around it;
        with ``pre``, the same window before the event (``pre/``, from export-reviews)."""
        info, image = self.image(key)
        if not 0 <= low < high <= 100:
            raise DatasetError(f"stretch {low}-{high}: need 0 <= low < high <= 100 (percent)")
        if pre:
            before = pre_image_path(info.image)
            if not before.is_file():
                raise DatasetError(f"patch {key} has no pre-event image ({before.name} in pre/)")
            return to_uint8(render(read_image(before), info.bands, combo, low, high))
        if with_context:
            ctx = scene_context(self.root, key, image, info.bands, DEFAULT_MARGIN_PX)
            if isinstance(ctx, Context):
                m = ctx.margin_px
                region = np.zeros(ctx.image.shape[:2], dtype=bool)
                region[m : m + info.height, m : m + info.width] = True
                return to_uint8(render(ctx.image, info.bands, combo, low, high, region))
            if not isinstance(ctx, NoContext):  # pragma: no cover
                raise TypeError(ctx)
        return to_uint8(render(image, info.bands, combo, low, high))

    def suggestion(self, key: str) -> Suggestion:
        """The model's suggestion for ``key`` (DatasetError without a model)."""
        if self.suggester is None:
            raise DatasetError("no model was given; start with --model RUN/model for suggestions")
        info, image = self.image(key)

        def around() -> np.ndarray | None:  # the scene around the patch, when there is one
            ctx = scene_context(self.root, key, image, info.bands, FRAME_PX)
            return ctx.image if isinstance(ctx, Context) else None

        stamp = (key, info.image.stat().st_mtime_ns)
        return self.suggester.suggest(image, info.bands, stamp, context=around)

    def start_mask(self, key: str, start_from: str | None = None) -> LoadedMask:
        """The mask to start from: a draft; then the stored mask or the model's suggestion,
        whichever ``start_from`` (default: the workspace's) puts first; else empty."""
        start = start_from or self.start_from
        if start not in START_FROM:
            raise DatasetError(f"unknown start {start!r}; valid: {', '.join(START_FROM)}")
        info = self.patch(key)
        st = state_of(info, self.store.states())
        draft = self.store.draft_path(key)
        if st.state == "in_progress" and draft.is_file():
            return LoadedMask(read_mask(draft), st.version, st.state, "draft")
        if start == "suggestion" and self.suggester is not None:
            return LoadedMask(self.suggestion(key).mask, st.version, st.state, "suggestion")
        problem = None
        if info.mask.is_file():
            try:
                mask = read_mask(info.mask)
                check_mask(mask, info)
                return LoadedMask(mask, st.version, st.state, "dataset")
            except DatasetError as exc:  # start afresh; a save keeps the old file in history/
                problem = str(exc)
        if self.suggester is not None and st.state == "unlabeled":
            suggested = self.suggestion(key).mask
            return LoadedMask(suggested, st.version, st.state, "suggestion", problem)
        empty = np.zeros((info.height, info.width), dtype=np.uint8)
        return LoadedMask(empty, st.version, st.state, "empty", problem)

    def start_summary(self) -> str:
        """What patches open with, for the CLI's start line."""
        infos = [i for i in self.patches().values() if i.error is None]
        with_mask = sum(i.mask.is_file() for i in infos)
        if self.start_from == "suggestion":
            return (
                f"patches open with the model's suggestion ({len(infos)}); {with_mask} stored "
                "masks stay in the dataset until saved over (the page can load them)"
            )
        elsewhere = "the model's suggestion" if self.suggester is not None else "an empty mask"
        return (
            f"patches open with their stored mask where one exists ({with_mask} of "
            f"{len(infos)}), else {elsewhere}"
            + ("; --start-from suggestion starts from the model's" if self.suggester else "")
        )

    def reopen(self, key: str, base_version: int, annotator: str) -> LogEntry:
        """Put a done patch back in progress for review (its mask stays until saved again)."""
        info = self.patch(key)
        st = state_of(info, self.store.states())
        if st.state != "done":
            raise DatasetError(f"patch {key} is {st.state.replace('_', ' ')}, not done; "
                               "only done patches are re-opened")  # fmt: skip
        details = {"annotator": annotator, "seconds": None, "from_suggestion": False}
        return self.store.commit(key, "reopen", base_version, None, info.mask, details)

    def save(
        self,
        key: str,
        mask: np.ndarray | None,
        base_version: int,
        action: str,
        annotator: str,
        seconds: float | None,
        from_suggestion: bool,
    ) -> LogEntry:
        """Save (``save``/``draft``) or ``skip`` patch ``key`` from ``base_version``.

        DatasetError when the mask's size is not the image's or its values are not 0/1;
        :class:`~slidewatch.labeling.store.VersionConflict` when the patch moved on.
        """
        info = self.patch(key)
        if mask is not None:
            check_mask(mask, info)
        changed = None
        if from_suggestion and mask is not None and self.suggester is not None:
            changed = round(fraction_changed(mask, self.suggestion(key).mask), 6)
        details = {
            "annotator": annotator,
            "seconds": None if seconds is None else round(float(seconds), 1),
            "from_suggestion": bool(from_suggestion),
            "fraction_changed": changed,
        }
        return self.store.commit(key, action, base_version, mask, info.mask, details)


def check_mask(mask: np.ndarray, info: PatchInfo) -> None:
    """DatasetError unless ``mask`` is H×W like the image with values 0 and 1 only."""
    if mask.shape != (info.height, info.width):
        raise DatasetError(
            f"mask is {'×'.join(map(str, mask.shape))} but image {info.key} is "
            f"{info.height}×{info.width}; send a mask of the image's size"
        )
    if mask.size and int(mask.max()) > 1:
        raise DatasetError(f"mask values must be 0 or 1 (found {int(mask.max())}); send 0/1")


def _row(info: PatchInfo, st: PatchState) -> dict[str, Any]:
    return {
        "key": info.key,
        "id": info.id,
        "split": info.split,
        "state": "error" if info.error else st.state,
        "version": st.version,
        "annotator": st.annotator,
        "time": st.time,
        "height": info.height,
        "width": info.width,
        "error": info.error,
    }
