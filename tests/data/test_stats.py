from __future__ import annotations

import h5py
import numpy as np
import pytest

from slidewatch.bands import BAND_NAMES
from slidewatch.data.layout import discover, discover_many
from slidewatch.data.stats import band_distributions, compute_normalization, table1
from slidewatch.synthetic import GeneratedDataset


def _pixels(root) -> np.ndarray:  # type: ignore[no-untyped-def]
    arrays = []
    for ref in discover(root):
        with h5py.File(ref.image) as f:
            arrays.append(f["img"][()].reshape(-1, 14).astype(np.float64))
    return np.concatenate(arrays)


def test_minmax_standard_percentiles_none(flat_dataset: GeneratedDataset) -> None:
    refs = discover(flat_dataset.root)
    px = _pixels(flat_dataset.root)
    mm = compute_normalization(refs, "all14")
    np.testing.assert_allclose(mm.offset, flat_dataset.band_min, rtol=1e-6)
    np.testing.assert_allclose(np.add(mm.offset, mm.scale), flat_dataset.band_max, rtol=1e-6)
    std = compute_normalization(refs, "six10m", "standard")
    idx = [BAND_NAMES.index(b) for b in std.bands]
    np.testing.assert_allclose(std.offset, px[:, idx].mean(0), rtol=1e-6)
    np.testing.assert_allclose(std.scale, px[:, idx].std(0), rtol=1e-4)
    pct = compute_normalization(refs, "B4,dem", percentiles=(1, 99))
    lo, hi = np.percentile(px[:, [3, 13]], [1, 99], axis=0)  # 32×32 patches: no subsampling
    np.testing.assert_allclose(pct.offset, lo, rtol=1e-6)
    np.testing.assert_allclose(np.add(pct.offset, pct.scale), hi, rtol=1e-6)
    assert pct.percentiles == (1, 99)
    assert compute_normalization(refs, "rgb", "none").scale == (1.0, 1.0, 1.0)


def test_table1_per_source_and_combined(
    flat_dataset: GeneratedDataset, other_dataset: GeneratedDataset
) -> None:
    rows = table1(discover_many([flat_dataset.root, other_dataset.root]))
    assert [r.source for r in rows] == ["alpha", "beta", "all"]
    for row, made in zip(rows, [flat_dataset, other_dataset], strict=False):
        assert row.patches == len(made.ids)
        assert row.landslide_pixels == sum(made.landslide_pixels)
        assert row.landslide_km2 == pytest.approx(sum(made.landslide_pixels) * 1e-4)
        assert row.landslide_percent == pytest.approx(
            100 * sum(made.landslide_pixels) / made.total_pixels
        )
        assert row.landslide_percent + row.background_percent == pytest.approx(100)
    total = sum(flat_dataset.landslide_pixels) + sum(other_dataset.landslide_pixels)
    assert rows[2].landslide_pixels == total and rows[2].patches == 11
    assert rows[2].to_dict()["landslide_km2"] == pytest.approx(total * 1e-4)


def test_band_distributions_are_densities(
    flat_dataset: GeneratedDataset, other_dataset: GeneratedDataset
) -> None:
    refs = discover_many([flat_dataset.root, other_dataset.root])
    names, edges, dens = band_distributions(refs, "six10m", bins=20)
    assert names == ("B2", "B3", "B4", "B8", "slope", "dem") and len(edges) == 21
    assert set(dens) == {"alpha", "beta"}
    for d in dens.values():
        assert d.shape == (6, 20)
        np.testing.assert_allclose(d.sum(1) * (edges[1] - edges[0]), 1.0)
