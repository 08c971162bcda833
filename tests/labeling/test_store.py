"""The annotation log, patch states, versions and conflicts."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from slidewatch.data.hdf5 import read_mask
from slidewatch.errors import DatasetError
from slidewatch.labeling.store import (
    LabelStore,
    LogEntry,
    VersionConflict,
    fold_states,
    read_log,
)

DETAILS = {"annotator": "ana", "seconds": 12.5, "from_suggestion": False, "fraction_changed": None}


def test_fold_states_takes_the_last_versioned_action() -> None:
    entries = [
        LogEntry("a", "draft", 1, "x", "t1"),
        LogEntry("a", "save", 2, "y", "t2"),
        LogEntry("a", "conflict", 2, "z", "t3"),
        LogEntry("b", "skip", 1, "x", "t4"),
    ]
    states = fold_states(entries)
    assert (states["a"].state, states["a"].version, states["a"].annotator) == ("done", 2, "y")
    assert states["b"].state == "skipped"


def test_save_writes_the_mask_and_logs_who_when_and_how_long(tmp_path: Path) -> None:
    store = LabelStore(tmp_path)
    mask = np.zeros((8, 8), dtype=np.uint8)
    mask[2:4, 2:5] = 1
    entry = store.commit("img/image_1", "save", 0, mask, tmp_path / "mask" / "mask_1.h5", DETAILS)
    assert entry.version == 1 and entry.landslide_pixels == 6
    assert (read_mask(tmp_path / "mask" / "mask_1.h5") == mask).all()
    line = json.loads(store.log_path.read_text().splitlines()[0])
    assert line["annotator"] == "ana" and line["seconds"] == 12.5 and line["action"] == "save"
    assert line["time"].endswith("+00:00") and line["file"] == "mask/mask_1.h5"


def test_a_stale_save_is_refused_and_both_versions_are_kept(tmp_path: Path) -> None:
    store = LabelStore(tmp_path)
    target = tmp_path / "mask_1.h5"
    first = np.ones((4, 4), dtype=np.uint8)
    second = np.eye(4, dtype=np.uint8)
    store.commit("k", "save", 0, first, target, DETAILS)
    with pytest.raises(VersionConflict, match="saved by ana") as info:
        store.commit("k", "save", 0, second, target, {**DETAILS, "annotator": "bob"})
    assert (read_mask(target) == first).all()  # nothing overwritten
    assert (read_mask(tmp_path / info.value.kept) == second).all()  # nothing lost
    assert info.value.current.version == 1
    assert [e.action for e in read_log(store.log_path)] == ["save", "conflict"]


def test_replaced_masks_go_to_history_and_drafts_stay_out_of_the_layout(tmp_path: Path) -> None:
    store = LabelStore(tmp_path)
    target = tmp_path / "mask_1.h5"
    draft = np.eye(4, dtype=np.uint8)
    store.commit("k", "draft", 0, draft, target, DETAILS)
    assert not target.exists() and (read_mask(store.draft_path("k")) == draft).all()
    store.commit("k", "save", 1, np.ones((4, 4), np.uint8), target, DETAILS)
    assert not store.draft_path("k").exists()
    store.commit("k", "save", 2, np.zeros((4, 4), np.uint8), target, DETAILS)
    history = list((store.folder / "history").iterdir())
    assert len(history) == 1 and read_mask(history[0]).sum() == 16
    assert store.states()["k"].version == 3


def test_concurrent_saves_from_one_version_have_one_winner(tmp_path: Path) -> None:
    store = LabelStore(tmp_path)
    outcomes: list[str] = []

    def attempt(i: int) -> None:
        try:
            LabelStore(tmp_path).commit(
                "k", "save", 0, np.full((4, 4), i % 2, np.uint8), tmp_path / "m.h5", DETAILS
            )
            outcomes.append("saved")
        except VersionConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 5 + ["saved"]
    assert len(list((store.folder / "conflicts").iterdir())) == 5


def test_a_damaged_log_line_is_named(tmp_path: Path) -> None:
    store = LabelStore(tmp_path)
    store.folder.mkdir()
    good = {"patch": "a", "action": "save", "version": 1, "annotator": "x", "time": "t"}
    store.log_path.write_text(json.dumps(good) + "\n{oops\n")
    with pytest.raises(DatasetError, match=r"log.jsonl:2"):
        store.states()


def test_concurrent_saves_from_separate_processes_have_one_winner(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    src = Path(__file__).resolve().parents[2] / "src"
    script = (
        "import sys, time, numpy as np\n"
        "from pathlib import Path\n"
        "from slidewatch.labeling.store import LabelStore, VersionConflict\n"
        "root = Path(sys.argv[1])\n"
        "time.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # all start together\n"
        "try:\n"
        "    LabelStore(root).commit('k', 'save', 0, np.ones((4, 4), np.uint8), root / 'm.h5',\n"
        "        {'annotator': sys.argv[2], 'seconds': 1.0, 'from_suggestion': False,\n"
        "         'fraction_changed': None})\n"
        "    print('saved')\n"
        "except VersionConflict:\n"
        "    print('conflict')\n"
    )
    env = {"PYTHONPATH": str(src), "PATH": ""}
    start = str(time.time() + 8)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path), f"p{i}", start],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(4)
    ]
    outcomes = sorted(p.communicate(timeout=120)[0].strip() for p in procs)
    assert outcomes == ["conflict", "conflict", "conflict", "saved"]
    assert [e.action for e in read_log(tmp_path / ".slidewatch-labels" / "log.jsonl")].count(
        "save"
    ) == 1
