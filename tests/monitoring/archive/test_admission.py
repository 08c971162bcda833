"""Which files a reader may open: only regular files inside the archive root, on a local
disk (symlinks followed) and on an fsspec filesystem; everything else is not found."""

from __future__ import annotations

import uuid
from pathlib import Path

import fsspec
import pytest

from slidewatch.monitoring.archive import Archive, ProductNotFound
from slidewatch.monitoring.archive.admission import inside_archive, inside_remote


def test_inside_archive_admits_only_regular_files_inside(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.tif").write_bytes(b"x")
    assert inside_archive(tmp_path, "a/x.tif") == (tmp_path / "a" / "x.tif").resolve()
    for bad in ("a", "a/../a/x.tif", "/etc/passwd", "missing.tif", "a/x.tif\0", ""):
        with pytest.raises(ProductNotFound):
            inside_archive(tmp_path, bad)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(ProductNotFound):
        inside_archive(tmp_path, "loop")


def test_inside_remote_checks_without_a_server() -> None:
    fs = fsspec.filesystem("memory")
    root = f"/sw-{uuid.uuid4().hex[:8]}/archive"
    fs.pipe(f"{root}/a/x.tif", b"x")
    fs.pipe(f"{root}-evil/x.tif", b"x")
    assert inside_remote(fs, root, "a/x.tif") == f"{root}/a/x.tif"
    assert inside_remote(fs, root, f"memory:/{root}/a/x.tif") == f"{root}/a/x.tif"
    for bad in ("a", "a/../a/x.tif", f"{root}-evil/x.tif", "/etc/passwd", "missing.tif",
                "a/x.tif\0", "", "s3://bucket/a/x.tif", f"memory:/{root}-evil/x.tif"):  # fmt: skip
        with pytest.raises(ProductNotFound):
            inside_remote(fs, root, bad)
    fs.rm(root.rsplit("/", 1)[0], recursive=True)


def test_the_archive_admits_what_it_wrote_and_nothing_outside(tmp_path: Path) -> None:
    for root in (str(tmp_path / "archive"), f"memory://sw-{uuid.uuid4().hex[:8]}/archive"):
        archive = Archive(root)
        url = archive.write_bytes(b"x", "aoi", "2023-03-01", "rgb.tif")
        product = archive.admit(url)
        assert archive.fs.cat_file(product.path) == b"x" and product.version
        assert Archive(archive.url()).admit(url) == product  # the root's URL opens the same
        for bad in (archive.url("aoi", "..", "..", "x"), archive.url("aoi"), "/etc/passwd"):
            with pytest.raises(ProductNotFound):
                archive.admit(bad)
        assert archive.writable()
