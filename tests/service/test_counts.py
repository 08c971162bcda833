"""The API (and so the web map) and ``monitor history`` count a run's landslides alike."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from tests.service.pipeline_fixture import Fixture, run_cli


def history_changes(monitored: Fixture) -> dict[int, dict[str, int]]:
    """``monitor history --json``'s change counts per run id, as a user reads them."""
    code, output = run_cli("monitor", "history", monitored.aoi, "--json",
                           "--home", str(monitored.home))  # fmt: skip
    assert code == 0, output
    return {p["run_id"]: p["changes"] for p in json.loads(output)}


def test_api_and_history_give_the_same_counts(client: TestClient, monitored: Fixture) -> None:
    history = history_changes(monitored)
    runs = client.get(f"/aois/{monitored.aoi}/runs").json()
    done = [r for r in runs if r["state"] == "done"]
    assert sorted(r["id"] for r in done) == sorted(monitored.run_ids)
    for run in done:
        shown = {k: v for k, v in run["counts"].items() if v}
        assert shown == {k: v for k, v in history[run["id"]].items() if k != "baseline"}
        assert client.get(f"/runs/{run['id']}").json()["counts"] == run["counts"]
    latest = client.get(f"/runs/{monitored.run_ids[1]}").json()["counts"]
    assert latest["new"] == 1 and sum(latest.values()) >= 2  # the new scar, and the others
    # a polygon's change kind is its landslide's: the per-kind polygons never exceed the count
    features = client.get(f"/runs/{monitored.run_ids[1]}/detections").json()["features"]
    ids = [f["id"] for f in features]
    assert len(ids) == len(set(ids))
    for kind, n in latest.items():
        slides = {f["properties"]["landslide_id"] for f in features
                  if f["properties"]["change"] == kind}  # fmt: skip
        assert len(slides) <= n
