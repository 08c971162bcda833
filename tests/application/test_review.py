"""Reviewing a landslide: one use case (``review_landslide``) that the CLI and the API call;
the verdicts are kept with who and when, the last one wins, and the landslide's detail shows
its confidence, looks, verdicts and alerts (delivery targets masked)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.monitoring.conftest import db_url  # noqa: F401  (the fixture: SQLite, PostgreSQL)

from slidewatch.application.review import (
    ReviewRequest,
    landslide,
    parse_verdict,
    review_landslide,
)
from slidewatch.cli import cli
from slidewatch.errors import ConfigError, RegistryError
from slidewatch.monitoring.kinds import AlertKind, Confidence, Verdict
from slidewatch.monitoring.registry import Registry
from slidewatch.monitoring.registry.aois import AoiSettings
from slidewatch.monitoring.registry.tables import Alert, Delivery, Landslide, Run

SQUARE = {"type": "Polygon", "coordinates": [[[-76.7, -11.95], [-76.6, -11.95], [-76.6, -11.85],
                                              [-76.7, -11.85], [-76.7, -11.95]]]}  # fmt: skip


def landslide_row(registry: Registry) -> int:
    """An AOI with one run, one landslide and an alert delivered to a webhook with a token."""
    hook = "https://hooks.example.org/x?token=s3cret"
    aoi = registry.add_aoi(AoiSettings("valley", SQUARE, "/m", "ab" * 32, webhooks=(hook,)))
    with registry.session() as s:
        run = Run(aoi_id=aoi.id, acquisition_key="k", acquisition_date="2023-03-06", state="done")
        s.add(run)
        s.flush()
        slide = Landslide(aoi_id=aoi.id, first_run_id=run.id, last_run_id=run.id,
                          first_seen="2023-03-06", last_seen="2023-03-06", area_m2=3000.0,
                          geometry=SQUARE, max_probability=0.8, mean_slope_deg=31.5)  # fmt: skip
        s.add(slide)
        s.flush()
        alert = Alert(aoi_id=aoi.id, run_id=run.id, landslide_id=slide.id, payload={},
                      kind=AlertKind.NEW, confidence=Confidence.POSSIBLE)  # fmt: skip
        alert.deliveries.append(Delivery(channel="webhook", target=aoi.webhooks[0],
                                         last_error="HTTP 301", last_status=301))  # fmt: skip
        s.add(alert)
        s.flush()
        return int(slide.id)


def test_review_keeps_every_verdict_and_the_last_wins(db_url: str) -> None:  # noqa: F811
    with Registry(db_url) as registry:
        slide = landslide_row(registry)
        detail = landslide(registry, slide)
        assert (detail.confidence, detail.looks, detail.verdict) == (Confidence.POSSIBLE, 1, None)
        assert detail.attributes.mean_slope_deg == 31.5
        (alert,) = detail.alerts
        assert (alert.kind, alert.confidence, alert.acquisition_date) == (
            AlertKind.NEW,
            Confidence.POSSIBLE,
            "2023-03-06",
        )
        (delivery,) = alert.deliveries
        assert delivery.target == "https://hooks.example.org/…"  # no token shown
        assert (delivery.last_status, delivery.last_error) == (301, "HTTP 301")
        assert len(alert.event_id) == 36

        first = review_landslide(registry, ReviewRequest(slide, Verdict.REJECTED, "ops", "road"))
        assert (first.confidence, first.reviews, first.reviewer) == (Confidence.REJECTED, 1, "ops")
        second = review_landslide(registry, ReviewRequest(slide, Verdict.CONFIRMED, "geo"))
        assert (second.confidence, second.reviews) == (Confidence.CONFIRMED, 2)
        detail = landslide(registry, slide)
        assert [(r.verdict, r.reviewer, r.note) for r in detail.reviews] == [
            (Verdict.REJECTED, "ops", "road"),
            (Verdict.CONFIRMED, "geo", None),
        ]
        assert detail.verdict == Verdict.CONFIRMED and detail.confidence == Confidence.CONFIRMED
        assert detail.reviews[0].at <= detail.reviews[1].at
        with registry.session() as s:
            assert s.get_one(Landslide, slide).rejected_area_m2 is None


def test_a_rejection_remembers_the_area_for_the_regrowth_rule(tmp_path: Path) -> None:
    with Registry(f"sqlite:///{tmp_path / 'r.db'}") as registry:
        slide = landslide_row(registry)
        review_landslide(registry, ReviewRequest(slide, Verdict.REJECTED, "ops"))
        with registry.session() as s:
            row = s.get_one(Landslide, slide)
            assert (row.confidence, row.rejected_area_m2) == (Confidence.REJECTED, 3000.0)


def test_bad_reviews_are_refused(tmp_path: Path) -> None:
    with Registry(f"sqlite:///{tmp_path / 'r.db'}") as registry:
        slide = landslide_row(registry)
        with pytest.raises(RegistryError, match="unknown landslide 999"):
            review_landslide(registry, ReviewRequest(999, Verdict.CONFIRMED, "ops"))
        with pytest.raises(ConfigError, match="keep it under 2000"):
            review_landslide(registry, ReviewRequest(slide, Verdict.CONFIRMED, "ops", "x" * 2001))
        with pytest.raises(ConfigError, match="reviewer"):
            review_landslide(registry, ReviewRequest(slide, Verdict.CONFIRMED, "  "))
        with pytest.raises(ConfigError, match="valid names: confirmed, rejected"):
            parse_verdict("maybe")
        assert landslide(registry, slide).reviews == ()


def test_monitor_review_on_the_cli(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with Registry(f"sqlite:///{home / 'registry.db'}") as registry:
        slide = landslide_row(registry)
    runner = CliRunner()
    args = ["monitor", "review", str(slide), "--verdict", "rejected", "--note", "a road cut",
            "--home", str(home)]  # fmt: skip
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert f"landslide {slide}: rejected by cli:" in result.output
    assert "confidence now rejected (1 verdict)" in result.output
    missing = runner.invoke(cli, ["monitor", "review", "999", "--verdict", "confirmed",
                                  "--home", str(home)])  # fmt: skip
    assert missing.exit_code == 2 and "unknown landslide 999" in missing.output
    assert "Traceback" not in missing.output
    bad = runner.invoke(cli, ["monitor", "review", str(slide), "--verdict", "maybe",
                              "--home", str(home)])  # fmt: skip
    assert bad.exit_code == 2 and "confirmed" in bad.output
    with Registry(f"sqlite:///{home / 'registry.db'}") as registry:
        (kept,) = landslide(registry, slide).reviews
        assert (kept.verdict, kept.note) == (Verdict.REJECTED, "a road cut")
