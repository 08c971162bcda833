"""Named models for AOIs and detection jobs: folders under the server's models directory.

Clients name a model; the server finds ``<models_dir>/<name>/model.json``. A name is one
path component of letters, digits, ``-``, ``_`` and ``.`` (not starting with a dot), so it
cannot leave the folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from slidewatch.errors import ConfigError, unknown_name
from slidewatch.service.settings import ServiceSettings

MODEL_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$")


def available_models(settings: ServiceSettings) -> list[str]:
    root = settings.models_root
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if MODEL_NAME.match(p.name) and
                  (p / "model.json").is_file())  # fmt: skip


def resolve_model(settings: ServiceSettings, name: str) -> tuple[Path, str]:
    """The folder and hash of model ``name``; an unknown name lists the available ones."""
    from slidewatch.models.modelfile import model_hash

    names = available_models(settings)
    if not MODEL_NAME.match(name) or name not in names:
        valid = names or ["(none installed on this server)"]  # never the server's paths
        raise ConfigError(str(unknown_name("model", name, valid)))
    folder = (settings.models_root / name).resolve()
    return folder, model_hash(folder)
