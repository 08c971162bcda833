"""Issue 21, item 10: ``slidewatch data download landslide4sense`` against a small archive of
the same shape served on 127.0.0.1 (never the internet): both sources, checksums from the
manifest or the listing, an interrupted download that resumes, a checksum mismatch that
fails cleanly, and layouts that ``data check`` reads."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from slidewatch.cli import cli
from slidewatch.data import l4s_download
from slidewatch.data.l4s_download import RemoteFile, download_l4s
from slidewatch.data.layout import detect_layout, discover
from slidewatch.errors import ConfigError, SourceError
from slidewatch.synthetic import make_l4s_dataset

from .l4s_server import Host, serving

FOLDERS = {"train": "TrainData", "validation": "ValidData", "test": "TestData"}


def zip_of(folder: Path, name: str) -> bytes:
    """A zip of ``folder`` under the top-level name ``name`` (as the record's zips hold)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for path in sorted(folder.rglob("*.h5")):
            z.write(path, f"{name}/{path.relative_to(folder)}")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def zenodo_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("l4s") / "official"
    make_l4s_dataset(root, layout="official", n=8, size=32, seed=9)
    return {f"{folder}.zip": zip_of(root / folder, folder) for folder in FOLDERS.values()}


@pytest.fixture(scope="module")
def hf_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("l4s") / "flat"
    make_l4s_dataset(root, n=7, size=32, seed=10)
    counts = {"train": 3, "validation": 2, "test": 2}
    files, n = {}, 1
    for split, count in counts.items():
        for i in range(1, count + 1):
            files[f"images/{split}/image_{i}.h5"] = (root / "img" / f"image_{n}.h5").read_bytes()
            files[f"annotations/{split}/mask_{i}.h5"] = (
                root / "mask" / f"mask_{n}.h5"
            ).read_bytes()
            n += 1
    return files


@pytest.fixture
def manifest(monkeypatch: pytest.MonkeyPatch, zenodo_files: dict[str, bytes]) -> Host:
    """The Zenodo manifest constant replaced by the test archive's names, sizes, md5s."""
    host = Host(dict(zenodo_files))
    split_of = {f"{v}.zip": k for k, v in FOLDERS.items()}
    files = tuple(RemoteFile(p, split_of[p], len(b), host.md5(p)) for p, b in host.files.items())
    monkeypatch.setattr(l4s_download, "ZENODO_FILES", files)
    return host


def test_zenodo_download_gives_the_official_layout_data_check_reads(
    manifest: Host, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "L4S"
    with serving(manifest) as host:
        monkeypatch.setenv("SLIDEWATCH_L4S_BASE_URL", f"{host.url}/files")
        result = CliRunner().invoke(cli, ["data", "download", "landslide4sense", "--out",
                                          str(out), "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "train, validation, test in" in result.output and "official layout" in result.output
    assert detect_layout(out) == "official" and not (out / ".download").exists()
    assert {r.split for r in discover(out)} == {"train", "val", "test"}
    assert CliRunner().invoke(cli, ["data", "check", str(out)]).exit_code == 0
    record = json.loads((out / "download.json").read_text())
    assert {f["checked_by"] for f in record["files"]} == {"manifest"}
    assert record["files"][0]["url"].startswith(host.url)


def test_checksums_come_from_the_listing_when_the_manifest_has_none(
    zenodo_files: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(l4s_download, "ZENODO_FILES", (RemoteFile("ValidData.zip", "validation"),))
    with serving(Host(dict(zenodo_files))) as host:
        download_l4s(tmp_path / "o", "zenodo", ["validation"], f"{host.url}/files",
                     f"{host.url}/api/files", progress=False)  # fmt: skip
    record = json.loads((tmp_path / "o" / "download.json").read_text())
    assert [(f["path"], f["checked_by"]) for f in record["files"]] == [("ValidData.zip", "listing")]
    assert record["files"][0]["checksum"].startswith("md5:")
    assert (tmp_path / "o" / "ValidData" / "img").is_dir()


def test_an_interrupted_download_resumes_and_leaves_nothing_under_the_final_name(
    manifest: Host, tmp_path: Path
) -> None:
    out = tmp_path / "L4S"
    manifest.break_once.add("TrainData.zip")
    with serving(manifest) as host:
        with pytest.raises(SourceError, match=r"broke off .* run the same command again"):
            download_l4s(out, splits=["train"], base_url=f"{host.url}/files", progress=False)
        part = out / ".download" / "TrainData.zip.part"
        assert not (out / "TrainData").exists() and part.stat().st_size > 0
        half = part.stat().st_size
        download_l4s(out, splits=["train"], base_url=f"{host.url}/files", progress=False)
    assert host.requests == [("TrainData.zip", None), ("TrainData.zip", f"bytes={half}-")]
    assert (out / "TrainData" / "mask").is_dir() and not (out / ".download").exists()


def test_a_checksum_mismatch_fails_cleanly(manifest: Host, tmp_path: Path) -> None:
    out = tmp_path / "L4S"
    manifest.corrupt.add("ValidData.zip")
    with serving(manifest) as host:
        result = CliRunner().invoke(cli, [
            "data", "download", "landslide4sense", "--out", str(out), "--quiet",
            "--base-url", f"{host.url}/files", "--splits", "train,val",
        ])  # fmt: skip
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "ValidData.zip: md5 checksum" in text and manifest.md5("ValidData.zip")[4:] in text
    assert "the download was removed" in text and "Traceback" not in text
    assert (out / "TrainData").is_dir()  # the split before it is complete and kept
    assert not (out / "ValidData").exists()
    assert not (out / ".download" / "ValidData.zip.part").exists()


def test_huggingface_download_pages_through_the_tree_listing(
    hf_files: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(l4s_download, "HF_SPLIT_PATCHES", {"train": 3, "validation": 2, "test": 2})
    out = tmp_path / "hf"
    with serving(Host(dict(hf_files))) as host:
        base, api = f"{host.url}/files", f"{host.url}/api/tree"
        result = download_l4s(out, "huggingface", ["train", "validation", "test"], base, api,
                              progress=False)  # fmt: skip
    assert result.fetched == 14 and result.layout == "huggingface"
    assert detect_layout(out) == "huggingface"
    refs = discover(out)
    assert sorted(r.split for r in refs) == ["test"] * 2 + ["train"] * 3 + ["val"] * 2
    assert all(r.mask is not None for r in refs)
    record = json.loads((out / "download.json").read_text())
    assert {f["checked_by"] for f in record["files"]} == {"listing"}
    assert all(f["checksum"].startswith("sha256:") for f in record["files"])
    assert CliRunner().invoke(cli, ["data", "check", str(out)]).exit_code == 0


def test_bad_requests_are_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"unknown split.*valid: train, validation, test"):
        download_l4s(tmp_path, splits=["training"], progress=False)
    monkeypatch.setattr(l4s_download, "ZENODO_FILES", (RemoteFile("TestData.zip", "test"),))
    unstated = pytest.raises(
        SourceError, match=r"no checksum for TestData\.zip.*--allow-unverified"
    )
    with serving(Host({"TestData.zip": b"x"})) as host, unstated:  # a listing without the file
        download_l4s(tmp_path / "o", splits=["test"], base_url=f"{host.url}/files",
                     api_url=f"{host.url}/api/tree/none", progress=False)  # fmt: skip
    assert not (tmp_path / "o" / "TestData").exists()
    shutil.rmtree(tmp_path / "o", ignore_errors=True)
