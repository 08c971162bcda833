"""A model's identity: the sha256 of what decides its outputs, computed in one place.

A model folder is identified by its weights and its description together (a recalibrated
threshold or a new normalisation is another model); an exported ``.onnx`` graph by its bytes.
The monitoring registry records it, a run refuses a model whose identity changed, the ONNX
engine's cached graph and the Dask workers' engines are keyed by it.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from slidewatch.digest import file_sha256, update_from_file
from slidewatch.errors import ModelError
from slidewatch.models.modelfile import SPEC_FILE, WEIGHTS_FILE

ONNX_SUFFIX = ".onnx"


def model_hash(model: str | Path) -> str:
    """Hex sha256 of a model folder's weights and description, or of an ``.onnx`` graph."""
    path = Path(model)
    if path.suffix == ONNX_SUFFIX:
        return file_sha256(path)
    digest = hashlib.sha256()
    for name in (WEIGHTS_FILE, SPEC_FILE):
        file = path / name
        if not file.is_file():
            raise ModelError(
                f"{file}: missing; a model directory holds {SPEC_FILE} and {WEIGHTS_FILE}"
            )
        digest.update(name.encode())
        update_from_file(digest, file)
    return digest.hexdigest()


def current_model_hash(model: str | Path) -> str:
    """:func:`model_hash`, computed again only when one of the files changed (size, mtime or
    inode): a monitoring run checks it every time, and hashing the weights each time cost
    ~5 ms a run."""
    path = Path(model)
    names = (path,) if path.suffix == ONNX_SUFFIX else (path / WEIGHTS_FILE, path / SPEC_FILE)
    stamps = []
    for name in names:
        try:
            st = os.stat(name)
        except OSError:
            return model_hash(path)  # raises, naming the missing file
        stamps.append((st.st_size, st.st_mtime_ns, st.st_ino))
    return _stamped_hash(str(path), tuple(stamps))


@functools.lru_cache(maxsize=64)
def _stamped_hash(model: str, _stamps: tuple[tuple[int, int, int], ...]) -> str:
    return model_hash(model)
