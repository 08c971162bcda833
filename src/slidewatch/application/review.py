"""Reviewing a landslide, as ``monitor review`` and ``POST /landslides/{id}/review`` both do,
and the landslide as ``GET /landslides/{id}`` shows it.

A reviewer marks a landslide ``confirmed`` or ``rejected`` with an optional note; who (the
API key's name, or ``cli:<user>``) and when are kept, every verdict is kept and the last one
wins. A rejected landslide raises no alert again unless it grows past
``monitoring.confidence.REGROWTH_FACTOR`` times its area when rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from slidewatch.errors import ConfigError, unknown_name
from slidewatch.monitoring.kinds import Confidence, Verdict
from slidewatch.monitoring.registry.reviews import LandslideDetail, add_review, landslide_detail

if TYPE_CHECKING:
    from slidewatch.monitoring.registry import Registry

MAX_NOTE_CHARS = 2000
"""Longest note accepted (a paragraph; longer belongs in a report the note links to)."""
MAX_REVIEWER_CHARS = 200


@dataclass(frozen=True)
class ReviewRequest:
    """A reviewer's verdict on one landslide."""

    landslide_id: int
    verdict: Verdict
    reviewer: str
    """Who: the API key's name, or ``cli:<user>``."""
    note: str | None = None


@dataclass(frozen=True)
class ReviewResult:
    """What the review did."""

    landslide_id: int
    verdict: Verdict
    confidence: Confidence
    """The landslide's confidence now."""
    reviewer: str
    reviewed_at: datetime
    reviews: int
    """Verdicts on it so far, this one included."""


def parse_verdict(value: str) -> Verdict:
    """A verdict from an edge's text; ``ConfigError`` listing the valid ones."""
    try:
        return Verdict(value)
    except ValueError:
        raise ConfigError(unknown_name("verdict", value, list(Verdict)).args[0]) from None


def review_landslide(registry: Registry, request: ReviewRequest) -> ReviewResult:
    """Record ``request``'s verdict; ``RegistryError`` for an unknown landslide,
    ``ConfigError`` for a note or reviewer name out of bounds."""
    note = (request.note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise ConfigError(f"note of {len(note)} characters: keep it under {MAX_NOTE_CHARS}")
    reviewer = request.reviewer.strip()
    if not reviewer or len(reviewer) > MAX_REVIEWER_CHARS:
        raise ConfigError(f"reviewer {reviewer!r}: give a name of 1-{MAX_REVIEWER_CHARS} chars")
    verdict = parse_verdict(request.verdict)
    record = add_review(registry, request.landslide_id, verdict, note, reviewer)
    detail = landslide_detail(registry, request.landslide_id)
    return ReviewResult(detail.id, record.verdict, detail.confidence, record.reviewer,
                        record.at, len(detail.reviews))  # fmt: skip


def landslide(registry: Registry, landslide_id: int) -> LandslideDetail:
    """Landslide ``landslide_id``: confidence, looks, attributes, verdicts and alerts
    (delivery targets masked); ``RegistryError`` (404) if unknown."""
    return landslide_detail(registry, landslide_id)


__all__ = ["LandslideDetail", "ReviewRequest", "ReviewResult", "landslide", "parse_verdict",
           "review_landslide"]  # fmt: skip
