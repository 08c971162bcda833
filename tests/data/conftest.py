"""Small generated datasets shared by the data tests (32×32 patches keep them fast)."""

from __future__ import annotations

from pathlib import Path

import pytest

from slidewatch.data.generate import GeneratedDataset, make_l4s_dataset


@pytest.fixture(scope="session")
def flat_dataset(tmp_path_factory: pytest.TempPathFactory) -> GeneratedDataset:
    """Six labeled 32×32 patches in the flat layout."""
    return make_l4s_dataset(tmp_path_factory.mktemp("flat") / "alpha", n=6, size=32, seed=1)


@pytest.fixture(scope="session")
def other_dataset(tmp_path_factory: pytest.TempPathFactory) -> GeneratedDataset:
    """Five labeled 32×32 patches of a second source, official layout."""
    root = tmp_path_factory.mktemp("official") / "beta"
    return make_l4s_dataset(root, layout="official", n=5, size=32, seed=2, landslide_fraction=0.1)


@pytest.fixture
def make_dataset(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Factory for a fresh dataset in this test's tmp_path."""

    def make(name: str = "ds", **kw: object) -> GeneratedDataset:
        kw.setdefault("size", 32)
        kw.setdefault("n", 4)
        return make_l4s_dataset(tmp_path / name, **kw)  # type: ignore[arg-type]

    return make
