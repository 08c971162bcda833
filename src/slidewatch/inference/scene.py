"""Opening a georeferenced scene as the model's band stack: now :mod:`slidewatch.scene`.

Kept so that ``from slidewatch.inference.scene import Scene, SceneReader, open_scene``
goes on working; new code imports :mod:`slidewatch.scene`.
"""

from slidewatch.scene import Scene, SceneReader, open_scene

__all__ = ["Scene", "SceneReader", "open_scene"]
