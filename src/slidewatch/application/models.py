"""Named models of a home: folders under its models directory, chosen by name.

Clients (the API, a job) name a model; the home finds ``<models_dir>/<name>/model.json``. A
name is one path component of letters, digits, ``-``, ``_`` and ``.`` (not starting with a
dot), so it cannot leave the folder. A model is taken with its hash
(:class:`~slidewatch.monitoring.imagery.RegisteredModel`): a run refuses other files.
"""

from __future__ import annotations

import re

from slidewatch.application.settings import HomeSettings
from slidewatch.errors import ConfigError, unknown_name
from slidewatch.monitoring.imagery import RegisteredModel

MODEL_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")


def available_models(settings: HomeSettings) -> list[str]:
    """The names of the home's models."""
    root = settings.layout.models_dir
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if MODEL_NAME.fullmatch(p.name) and
                  (p / "model.json").is_file())  # fmt: skip


def named_model(settings: HomeSettings, name: str) -> RegisteredModel:
    """Model ``name`` of the home with its hash; an unknown name lists the available ones
    (never the server's paths)."""
    from slidewatch.models.identity import model_hash

    names = available_models(settings)
    if not MODEL_NAME.fullmatch(name) or name not in names:
        valid = names or ["(none installed on this server)"]
        raise ConfigError(str(unknown_name("model", name, valid)))
    folder = (settings.layout.models_dir / name).resolve()
    return RegisteredModel(str(folder), model_hash(folder))
