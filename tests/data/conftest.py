"""Small generated datasets shared by the data tests (32×32 patches keep them fast)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from slidewatch.synthetic import GeneratedDataset, make_l4s_dataset


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


def dihedral_variants(image: np.ndarray) -> list[np.ndarray]:
    """The 8 flips/quarter turns of a C×H×W (or H×W) array, built with numpy alone."""
    turned = [np.rot90(image, k, axes=(-2, -1)) for k in range(4)]
    flipped = [np.rot90(image[..., ::-1], k, axes=(-2, -1)) for k in range(4)]
    return [np.ascontiguousarray(v) for v in turned + flipped]


def which_variant(
    image: np.ndarray, mask: np.ndarray, plain_image: np.ndarray, plain_mask: np.ndarray
) -> int:
    """The index of the one dihedral transform that maps the plain pair onto (image, mask);
    fails when the image is none of them or the mask moved differently."""
    images, masks = dihedral_variants(plain_image), dihedral_variants(plain_mask)
    matches = [k for k, v in enumerate(images) if np.array_equal(v, image)]
    assert matches, "the augmented image is not a flip/rotation of the original"
    assert any(np.array_equal(masks[k], mask) for k in matches), "mask and image moved apart"
    return matches[0]
