"""One model identity: a folder's weights and description together, an exported graph's
bytes; the cached form is computed again when a file changes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from slidewatch.errors import ModelError
from slidewatch.models.identity import current_model_hash, model_hash
from slidewatch.models.modelfile import SPEC_FILE, WEIGHTS_FILE


def _model(folder: Path) -> Path:
    folder.mkdir()
    (folder / WEIGHTS_FILE).write_bytes(bytes(range(256)) * 4)
    (folder / SPEC_FILE).write_text('{"architecture": "unet", "threshold": 0.5}')
    return folder


def test_both_files_make_the_identity(tmp_path: Path) -> None:
    model = _model(tmp_path / "m")
    first = model_hash(model)
    (model / SPEC_FILE).write_text('{"architecture": "unet", "threshold": 0.6}')  # recalibrated
    assert model_hash(model) != first and len(first) == 64
    (model / WEIGHTS_FILE).unlink()
    with pytest.raises(ModelError, match=r"model\.safetensors: missing"):
        model_hash(model)


def test_an_exported_graph_is_identified_by_its_bytes(tmp_path: Path) -> None:
    graph = tmp_path / "model.onnx"
    graph.write_bytes(b"onnx-bytes")
    assert model_hash(graph) == hashlib.sha256(b"onnx-bytes").hexdigest()


def test_the_cached_hash_is_computed_again_when_the_weights_change(tmp_path: Path) -> None:
    model = _model(tmp_path / "m")
    first = current_model_hash(model)
    assert first == model_hash(model)
    weights = model / WEIGHTS_FILE
    original = weights.read_bytes()
    weights.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))  # same size
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert current_model_hash(model) == model_hash(model) != first
