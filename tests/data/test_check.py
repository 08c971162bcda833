from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from slidewatch.data.check import check_dataset
from slidewatch.data.layout import PatchRef, discover
from slidewatch.data.plausibility import band_problems
from slidewatch.synthetic import make_l4s_dataset


def _rewrite(path: Path, key: str, data: np.ndarray) -> None:
    path.unlink()
    with h5py.File(path, "w") as f:
        f.create_dataset(key, data=data)


def _img(ref: PatchRef) -> np.ndarray:
    with h5py.File(ref.image) as f:
        return np.asarray(f["img"][()])


def _set_img(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[PatchRef], None]:
    return lambda ref: _rewrite(ref.image, "img", fn(_img(ref)))


def _truncate(ref: PatchRef) -> None:
    data = ref.image.read_bytes()
    ref.image.write_bytes(data[: len(data) // 2])


def _nan(x: np.ndarray) -> np.ndarray:
    x[3, 4, 5] = np.nan
    x[0, 0, 0] = np.inf
    return x


def _swap(x: np.ndarray) -> np.ndarray:
    return x[..., [*range(12), 13, 12]]


def _radians(x: np.ndarray) -> np.ndarray:
    x[..., 12] = np.radians(x[..., 12] * 20.29) / 20.29
    return x


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = x.min(axis=(0, 1)), x.max(axis=(0, 1))
    return (x - lo) / (hi - lo)


def _raw(x: np.ndarray) -> np.ndarray:
    x[..., :12] *= 1000.0
    return x


FAULTS: dict[str, tuple[Callable[[PatchRef], None], str]] = {
    "random bytes": (
        lambda r: r.image.write_bytes(np.random.default_rng(0).bytes(4000)),
        "unreadable or truncated",
    ),
    "truncated": (_truncate, "unreadable or truncated"),
    "missing img key": (lambda r: _rewrite(r.image, "data", _img(r)), "no 'img' dataset"),
    "missing mask key": (lambda r: _rewrite(r.mask, "img", np.zeros((32, 32))), "no 'mask'"),  # type: ignore[arg-type]
    "2-D image": (_set_img(lambda x: x[..., 0]), "expected H×W×C"),
    "13 bands": (_set_img(lambda x: x[..., :13]), "13 bands but 14"),
    "integer image": (_set_img(lambda x: (x * 100).astype(np.int16)), "dtype is int16"),
    "nan": (_set_img(_nan), "2 NaN/inf"),
    "mask value 2": (
        lambda r: _rewrite(r.mask, "mask", np.full((32, 32), 2, np.uint8)),  # type: ignore[arg-type]
        "other than 0/1 (2)",
    ),
    "float mask": (
        lambda r: _rewrite(r.mask, "mask", np.zeros((32, 32), np.float32)),  # type: ignore[arg-type]
        "dtype is float32",
    ),
    "mask shape": (
        lambda r: _rewrite(r.mask, "mask", np.zeros((16, 16), np.uint8)),  # type: ignore[arg-type]
        "differs from its image",
    ),
    "dem in metres": (
        _set_img(lambda x: np.concatenate([x[..., :13], x[..., 13:] * 772.83], -1)),
        "dem band reaches",
    ),
    "slope in degrees": (
        _set_img(lambda x: np.concatenate([x[..., :12], x[..., 12:13] * 20.29, x[..., 13:]], -1)),
        "slope band reaches",
    ),
    "slope in radians": (_set_img(_radians), "radians"),
    "swapped": (_set_img(_swap), "swapped"),
    "min-max scaled": (_set_img(_minmax), "min-max scaled"),
    "raw numbers": (_set_img(_raw), "raw digital numbers"),
}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return make_l4s_dataset(tmp_path / "ds", n=3, size=32, seed=4).root


def test_generated_data_is_clean(dataset: Path) -> None:
    report = check_dataset(dataset, progress=False)
    assert report.ok and not report.issues and report.files == 6 and report.labeled


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_is_caught(dataset: Path, fault: str) -> None:
    make, text = FAULTS[fault]
    ref = discover(dataset)[1]
    make(ref)
    report = check_dataset(dataset, progress=False)
    assert not report.ok
    hits = [i for i in report.issues if text in i.problem]
    assert hits, [i.problem for i in report.issues]
    assert all(i.file in (str(ref.image), str(ref.mask)) for i in report.issues)
    assert all(i.severity == "error" for i in hits)


def test_all_problems_reported_not_just_the_first(tmp_path: Path) -> None:
    root = make_l4s_dataset(tmp_path / "ds", n=len(FAULTS) + 1, size=32, seed=6).root
    refs = discover(root)
    for ref, (make, _) in zip(refs, FAULTS.values(), strict=False):
        make(ref)
    report = check_dataset(root, progress=False)
    for ref, (_, text) in zip(refs, FAULTS.values(), strict=False):
        mine = [i.problem for i in report.issues if i.file in (str(ref.image), str(ref.mask))]
        assert any(text in p for p in mine), (ref.id, text, mine)
    assert not any(i.file == str(refs[-1].image) for i in report.issues)
    assert report.errors >= len(FAULTS)
    assert f"{report.errors} errors" in report.summary()
    assert report.to_dict()["ok"] is False


def test_image_without_mask_is_a_warning_unlabeled_is_a_note(tmp_path: Path) -> None:
    root = make_l4s_dataset(tmp_path / "ds", n=3, size=32).root
    discover(root)[0].mask.unlink()  # type: ignore[union-attr]
    report = check_dataset(root, progress=False)
    assert report.ok and report.warnings == 1 and "without mask" in report.issues[0].problem
    bare = make_l4s_dataset(tmp_path / "bare", n=2, size=32, with_masks=False).root
    report = check_dataset(bare, progress=False)
    assert report.ok and not report.issues and not report.labeled and report.notes


def test_band_problems_respects_band_attribute() -> None:
    image = np.ones((8, 8, 2), np.float32) * 50  # B10 cirrus may reach 50 in L4S, B4 may not
    problems = band_problems(image, ("B10", "B4"))
    assert len(problems) == 1 and problems[0].startswith("bands B4 have medians")


@pytest.mark.parametrize("layout", ["flat", "official", "huggingface"])
def test_mask_without_image_is_a_warning(tmp_path: Path, layout: str) -> None:
    root = make_l4s_dataset(tmp_path / "ds", layout=layout, n=3, size=32).root
    ref = discover(root)[0]
    ref.image.unlink()
    report = check_dataset(root, progress=False)
    assert report.ok and [(i.file, i.severity) for i in report.issues] == [
        (str(ref.mask), "warning")
    ]
    assert "mask without image" in report.issues[0].problem


def test_official_test_split_without_masks_is_a_note(tmp_path: Path) -> None:
    root = make_l4s_dataset(tmp_path / "ds", layout="official", n=5, size=32).root
    for mask in (root / "TestData" / "mask").iterdir():
        mask.unlink()
    report = check_dataset(root, progress=False)
    assert report.ok and not report.issues and report.labeled
    assert report.notes == ("split(s) test have no masks: checked as unlabeled",)


def test_a_patch_of_another_size_is_an_error_naming_the_majority(dataset: Path) -> None:
    refs = discover(dataset)
    odd = refs[1]
    _rewrite(odd.image, "img", _img(odd)[:16, :16])
    with h5py.File(odd.mask, "r") as f:
        mask = np.asarray(f["mask"][()])
    _rewrite(odd.mask, "mask", mask[:16, :16])  # a matching mask: only the size is odd
    _rewrite(refs[2].mask, "mask", mask[:20, :20])  # and a mask that fits no image
    report = check_dataset(dataset, progress=False)
    size = [i for i in report.issues if "training batches need one size" in i.problem]
    assert [i.file for i in size] == [str(odd.image)] and size[0].severity == "error"
    assert (
        "16×16" in size[0].problem and "2 of 3 images in this dataset are 32×32" in size[0].problem
    )
    pair = [i for i in report.issues if "differs from its image" in i.problem]
    assert [i.file for i in pair] == [str(refs[2].mask)] and "(20, 20)" in pair[0].problem


def test_an_all_zero_image_is_reported_by_name(dataset: Path) -> None:
    refs = discover(dataset)
    _rewrite(refs[0].image, "img", np.zeros_like(_img(refs[0])))
    report = check_dataset(dataset, progress=False)
    assert [(i.file, i.severity) for i in report.issues] == [(str(refs[0].image), "warning")]
    assert "all zeros" in report.issues[0].problem


def test_a_folder_of_geotiffs_points_to_build_patches(tmp_path: Path) -> None:
    from slidewatch.errors import DatasetError

    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "000000000001.tif").write_bytes(b"II*\x00")
    with pytest.raises(DatasetError, match=r"it is a scene.*slidewatch data build-patches --scene"):
        check_dataset(tmp_path, progress=False)
