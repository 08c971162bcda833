"""Inside monitoring, imports point one way too: the look uses the archive, the alerts and
the registry; the archive and the alerts use the registry; the registry uses neither (no
hop back up, no sibling imports). Checked statically on every module."""

from __future__ import annotations

import ast
from pathlib import Path

import slidewatch.monitoring

LAYERS: tuple[tuple[str, ...], ...] = (
    ("kinds", "imagery"),
    ("confidence",),
    ("registry",),
    ("archive", "alerts"),
    ("look", "history"),
)
"""Bottom to top; a module imports its own part and the parts of lower layers only."""
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}
ROOT = Path(slidewatch.monitoring.__file__).parent
PREFIX = "slidewatch.monitoring."


def monitoring_parts(path: Path) -> set[str]:
    """The monitoring parts (``registry``, ``look`` …) a module imports."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "slidewatch.monitoring":  # from slidewatch.monitoring import x
                names = [f"{PREFIX}{alias.name}" for alias in node.names]
        out |= {n.removeprefix(PREFIX).split(".")[0] for n in names if n.startswith(PREFIX)}
    return out


def part_of(path: Path) -> str:
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def test_every_part_has_a_layer() -> None:
    parts = {part_of(p) for p in ROOT.rglob("*.py")} - {"__init__"}
    assert parts - set(RANK) == set(), "add new monitoring parts to LAYERS"


def test_monitoring_imports_point_down() -> None:
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        mine = part_of(path)
        if mine not in RANK:
            continue
        for other in monitoring_parts(path) - {mine}:
            if RANK[other] >= RANK[mine]:
                wrong.append(f"{path.relative_to(ROOT)} imports monitoring.{other}")
    assert wrong == []


def test_the_rule_catches_a_hop_back_up(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text(
        "from slidewatch.monitoring.look.schedule import due\n"
        "from slidewatch.monitoring import archive\n"
    )
    assert monitoring_parts(module) == {"look", "archive"}
    assert RANK["look"] > RANK["archive"] > RANK["registry"] > RANK["kinds"]
