"""How sure slidewatch is of a landslide, and which looks raise which alerts: pure functions
over frozen values, the one place of these rules (docs/monitoring.md states them).

A landslide's :class:`Standing` is its evidence so far: its confidence, how many looks saw
it, its highest probability, and what a reviewer said. Each look turns one change record
into an :class:`Observation`; :func:`observe` gives the new standing and :func:`event_for`
the alert it raises, if any. Reviews go through :func:`reviewed`.

- *seen twice*: ``possible`` → ``confirmed`` on the second look that finds it;
- *seen only at the edge* of what a look could not see (change ``unknown``): an identity
  but no look and no alert; the first look that sees it on clear ground raises ``new``;
- *unseen the second time* (its ground hidden: change ``unknown``): nothing changes;
- *seen then gone* (its ground seen, no landslide): it stays ``possible`` and keeps its
  looks (the ``gone`` change row says what happened); it is confirmed only if seen again;
- *merged*: the polygon that absorbed others keeps its identity and takes the strongest
  evidence of all of them (most looks, highest probability, confirmed if one was);
- *split*: a part that split off starts with its parent's evidence;
- *rejected* (reviewed as wrong): never alerted again, unless it grows to more than
  :data:`REGROWTH_FACTOR` times its area when it was rejected: then it is ``possible``
  again and raises a ``grown`` alert.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from slidewatch.monitoring.kinds import AlertKind, AlertOn, ChangeKind, Confidence, Verdict

REGROWTH_FACTOR = 2.0
"""A rejected landslide is alerted again only once its area exceeds this many times its
area when it was rejected (twice the ground is a different event, not outline noise: the
growth rule's 10 % would re-alert a rejected scar at every look)."""

CONFIRMING_LOOKS = 2
"""Looks that must see a landslide (on ground they saw) before it is ``confirmed``."""

SEEN_KINDS = frozenset({ChangeKind.UNCHANGED, ChangeKind.GROWN, ChangeKind.NEW,
                        ChangeKind.SPLIT, ChangeKind.BASELINE})  # fmt: skip
"""Change kinds whose landslide was detected by the look (its ground seen)."""


@dataclass(frozen=True)
class Standing:
    """A landslide's evidence so far (columns of its registry row)."""

    confidence: Confidence = Confidence.POSSIBLE
    looks: int = 1
    """Looks that detected it."""
    max_probability: float = 0.0
    """The highest mean probability of its polygon over those looks."""
    rejected_area_m2: float | None = None
    """Its area when a reviewer rejected it (the regrowth rule's reference)."""
    baseline: bool = False
    """First seen by the AOI's first look: it was already there, so it is no news (a
    ``confirmed`` alert is raised only for landslides that appeared while watched)."""


@dataclass(frozen=True)
class Observation:
    """What one look says of one landslide."""

    kind: ChangeKind
    probability: float | None = None
    """Mean probability of its polygon in this look (None: not detected)."""
    area_m2: float = 0.0
    """Its area in this look (its last known area when not detected)."""
    changed_area_m2: float = 0.0
    """New or grown ground, counted where both dates saw it."""


def first_standing(obs: Observation) -> Standing:
    """The standing of a landslide first seen by this look (new, or the baseline). A polygon
    found only at the edge of what could not be seen (change ``unknown``) gets its identity
    but no look: it was not seen on clear ground."""
    looks = 0 if obs.kind == ChangeKind.UNKNOWN else 1
    return Standing(Confidence.POSSIBLE, looks, obs.probability or 0.0, None,
                    baseline=obs.kind == ChangeKind.BASELINE)  # fmt: skip


def observe(before: Standing, obs: Observation) -> Standing:
    """The standing after a look; a look that did not detect it changes nothing."""
    if obs.kind not in SEEN_KINDS or obs.probability is None:
        return before  # unseen (unknown), gone, merged away: no new evidence for it
    looks = before.looks + 1
    best = max(before.max_probability, obs.probability)
    if before.confidence == Confidence.REJECTED:
        if not regrown(before, obs.area_m2):
            return replace(before, looks=looks, max_probability=best)
        return Standing(Confidence.POSSIBLE, looks, best, None, before.baseline)
    confident = before.confidence == Confidence.CONFIRMED or looks >= CONFIRMING_LOOKS
    confidence = Confidence.CONFIRMED if confident else Confidence.POSSIBLE
    return replace(before, confidence=confidence, looks=looks, max_probability=best)


def regrown(standing: Standing, area_m2: float) -> bool:
    """Whether a rejected landslide grew past :data:`REGROWTH_FACTOR` times its area then."""
    reference = standing.rejected_area_m2
    return reference is not None and area_m2 > REGROWTH_FACTOR * reference


def merged(survivor: Standing, absorbed: list[Standing]) -> Standing:
    """The evidence of a polygon that absorbed others (before this look's own sighting)."""
    if not absorbed:
        return survivor
    every = [survivor, *absorbed]
    confirmed = survivor.confidence == Confidence.POSSIBLE and any(
        s.confidence == Confidence.CONFIRMED for s in absorbed
    )
    return replace(
        survivor,
        confidence=Confidence.CONFIRMED if confirmed else survivor.confidence,
        looks=max(s.looks for s in every),
        max_probability=max(s.max_probability for s in every),
        baseline=all(s.baseline for s in every),
    )


def split_part(parent: Standing) -> Standing:
    """The evidence a part split off ``parent`` starts with: its parent's."""
    return parent


def reviewed(before: Standing, verdict: Verdict, area_m2: float) -> Standing:
    """The standing after a reviewer's verdict (the last verdict wins)."""
    if verdict == Verdict.REJECTED:
        return replace(before, confidence=Confidence.REJECTED, rejected_area_m2=area_m2)
    return replace(before, confidence=Confidence.CONFIRMED, rejected_area_m2=None)


def event_for(
    before: Standing | None, after: Standing, obs: Observation, min_area_m2: float,
    announced: bool = False,
) -> AlertKind | None:  # fmt: skip
    """The alert this look raises for one landslide (``before``: None for a new identity;
    ``announced``: an alert about it was raised before).

    The first alert about a landslide that appeared while watched is ``new`` (with its
    confidence: ``confirmed`` when its earlier sightings were too small to alert), once it
    is seen on clear ground with ``min_area_m2`` of news (a new identity: its new ground;
    a known one: its area). Later: ``confirmed`` the look that confirms it (area ≥
    ``min_area_m2``), ``grown`` when it gains ``min_area_m2`` of ground (a baseline landslide
    too). A rejected landslide raises nothing, unless it grew past :data:`REGROWTH_FACTOR`:
    then ``grown``."""
    if after.confidence == Confidence.REJECTED or obs.kind not in SEEN_KINDS:
        return None
    if after.looks == 0:
        return None
    if before is not None and before.confidence == Confidence.REJECTED:
        return AlertKind.GROWN  # regrown past the factor (else it would still be rejected)
    grown = obs.kind == ChangeKind.GROWN and obs.changed_area_m2 >= min_area_m2
    if grown and (announced or after.baseline):
        return AlertKind.GROWN
    if not announced:
        if after.baseline:
            return None  # it was there before watching began: no news
        news = obs.changed_area_m2 if before is None else obs.area_m2
        return AlertKind.NEW if news >= min_area_m2 else None
    newly = before is not None and before.confidence == Confidence.POSSIBLE
    if newly and after.confidence == Confidence.CONFIRMED and obs.area_m2 >= min_area_m2:
        return AlertKind.CONFIRMED
    return None


def sent(alert_on: AlertOn, confidence: Confidence) -> bool:
    """Whether an AOI that alerts on ``alert_on`` sends an event of this confidence."""
    if confidence == Confidence.REJECTED:
        return False
    return alert_on == AlertOn.POSSIBLE or confidence == Confidence.CONFIRMED


@dataclass(frozen=True)
class Attributes:
    """What a geologist checks first, measured under the landslide's polygon."""

    mean_slope_deg: float | None = None
    """Mean slope (degrees) from the stack's slope band."""
    vegetation_change: float | None = None
    """NDVI after minus NDVI before (negative: vegetation lost)."""
    elevation_m: float | None = None
    """Mean elevation (m) from the stack's DEM band."""


@dataclass(frozen=True)
class AlertFilters:
    """Per-AOI filters on :class:`Attributes` (all off by default). A landslide whose
    attribute could not be measured passes: a filter never hides what it cannot judge."""

    min_slope_deg: float | None = None
    """Alert only on ground at least this steep (flat ground rarely slides)."""
    max_vegetation_change: float | None = None
    """Alert only where NDVI changed by at most this (e.g. -0.1: vegetation lost)."""
    min_elevation_m: float | None = None
    max_elevation_m: float | None = None

    def passes(self, a: Attributes) -> bool:
        checks = (
            (self.min_slope_deg, a.mean_slope_deg, lambda lim, v: v >= lim),
            (self.max_vegetation_change, a.vegetation_change, lambda lim, v: v <= lim),
            (self.min_elevation_m, a.elevation_m, lambda lim, v: v >= lim),
            (self.max_elevation_m, a.elevation_m, lambda lim, v: v <= lim),
        )
        return all(lim is None or v is None or ok(lim, v) for lim, v, ok in checks)

    @property
    def active(self) -> bool:
        return any(v is not None for v in self.__dict__.values())

    def to_dict(self) -> dict[str, float]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, value: dict[str, Any] | None) -> AlertFilters:
        """From a registry row or a request; unknown names are an error listing the valid."""
        from slidewatch.errors import ConfigError

        value = value or {}
        unknown = sorted(set(value) - set(cls.__dataclass_fields__))
        if unknown:
            valid = ", ".join(cls.__dataclass_fields__)
            raise ConfigError(f"alert filter {', '.join(unknown)}: unknown; valid: {valid}")
        return cls(**{k: None if v is None else float(v) for k, v in value.items()})
