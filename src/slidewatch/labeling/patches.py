"""The patches of a dataset folder as a labeller sees them: key, bands, size, state, error.

Any layout :func:`slidewatch.data.layout.discover` reads is accepted. A patch's key is its
image path relative to the folder without ``.h5`` (``img/image_12``,
``TrainData/img/image_3``): unique in every layout, and never a path outside the folder
since keys are only looked up, never joined to the folder. An image that cannot be read is
listed with its error; the others stay labelable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from slidewatch.data.hdf5 import read_header
from slidewatch.data.layout import default_mask_path, detect_layout, discover
from slidewatch.errors import DatasetError, SlidewatchError
from slidewatch.labeling.store import STATES, PatchState


@dataclass(frozen=True)
class PatchInfo:
    """One patch of the dataset being labeled."""

    key: str
    """Image path relative to the dataset folder, without ``.h5``."""
    id: str
    """Image file stem (``image_12``)."""
    image: Path
    mask: Path
    """Where its mask is (or will be written): the layout's mask file."""
    split: str | None
    bands: tuple[str, ...] = ()
    height: int = 0
    width: int = 0
    error: str | None = None
    """Why the image cannot be shown, or None."""


def patch_key(root: Path, image: Path) -> str:
    """``image`` relative to ``root``, POSIX, without ``.h5``."""
    return Path(image).relative_to(root).with_suffix("").as_posix()


def probe(info: PatchInfo) -> PatchInfo:
    """``info`` with the image's bands and size read from its header, or its error."""
    try:
        bands, shape = read_header(info.image)
        if len(shape) != 3 or shape[-1] != len(bands):
            raise DatasetError(f"{info.image}: 'img' has shape {shape}; expected H×W×C")
    except SlidewatchError as exc:
        return replace(info, error=str(exc))
    except OSError as exc:
        return replace(info, error=f"{info.image}: unreadable ({exc}); re-export it")
    return replace(info, bands=bands, height=int(shape[0]), width=int(shape[1]))


def find_patches(root: Path) -> list[PatchInfo]:
    """Every patch under ``root``, probed; DatasetError when the folder holds none."""
    root = Path(root)
    refs = discover(root)
    layout = detect_layout(root)
    return [
        probe(
            PatchInfo(
                key=patch_key(root, ref.image),
                id=ref.id,
                image=ref.image,
                mask=ref.mask or default_mask_path(root, ref.image, layout),
                split=ref.split,
            )
        )
        for ref in refs
    ]


def state_of(info: PatchInfo, logged: Mapping[str, PatchState]) -> PatchState:
    """The logged state, else ``done`` for a patch that came with a mask, else ``unlabeled``."""
    if info.key in logged:
        return logged[info.key]
    return PatchState("done" if info.mask.is_file() else "unlabeled")


@dataclass(frozen=True)
class Progress:
    """Counts of patches per state."""

    total: int
    done: int
    in_progress: int
    skipped: int
    unlabeled: int
    errors: int


def progress(infos: Sequence[PatchInfo], states: Sequence[PatchState]) -> Progress:
    """Counts of ``states`` (one per info); unreadable patches are counted apart."""
    counts = dict.fromkeys(STATES, 0)
    for info, st in zip(infos, states, strict=True):
        if info.error is None:
            counts[st.state] += 1
    errors = sum(i.error is not None for i in infos)
    return Progress(
        total=len(infos),
        done=counts["done"],
        in_progress=counts["in_progress"],
        skipped=counts["skipped"],
        unlabeled=counts["unlabeled"],
        errors=errors,
    )
