"""The one-way dependency rule of DESIGN.md, checked statically on every module under
``src/slidewatch``: a package imports only packages of a lower layer (never a sibling, never
one above), and nothing but ``__main__`` imports the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import slidewatch

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "atomic", "threshold", "digest", "redact"),
    ("bands",),
    ("rgb", "mapfigure", "scene", "losses", "metrics", "cluster"),
    ("data",),
    ("models",),
    ("inference", "acquisition"),
    ("training", "labeling", "synthetic"),
    ("monitoring",),
    ("application",),
    ("service",),
    ("demo",),
    ("cli",),
    ("__main__",),
)
"""Bottom to top: cli / service → application → monitoring, labeling, training →
acquisition / inference → models → data → scene → bands / errors (DESIGN.md), with the small
shared modules at the bottom."""
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}
ROOT = Path(slidewatch.__file__).parent


def imported_packages(path: Path) -> set[str]:
    """The ``slidewatch.<package>`` names a module imports (absolute imports)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        out |= {n.split(".")[1] for n in names if n.startswith("slidewatch.")}
    return out


def package_of(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    return parts[0].removesuffix(".py")


def test_every_package_has_a_layer() -> None:
    packages = {package_of(p) for p in ROOT.rglob("*.py")} - {"__init__", "_version"}
    assert packages - set(RANK) == set(), "add new packages to LAYERS"


def test_dependencies_point_one_way() -> None:
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        mine = package_of(path)
        if mine not in RANK:
            continue
        for other in imported_packages(path) - {mine}:
            if other in RANK and RANK[other] >= RANK[mine]:
                wrong.append(f"{path.relative_to(ROOT)} imports slidewatch.{other}")
    assert wrong == []


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("from slidewatch.cli import main\nimport slidewatch.monitoring.look\n")
    assert imported_packages(module) == {"cli", "monitoring"}
    assert RANK["cli"] > RANK["monitoring"] > RANK["acquisition"] > RANK["data"] > RANK["bands"]
    assert RANK["service"] > RANK["application"] > RANK["monitoring"] > RANK["training"]
