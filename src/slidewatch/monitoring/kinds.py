"""The words monitoring stores and every concern shares: kinds of change, states of runs and
deliveries, and the classes of the change raster.

The enums are ``StrEnum``s: a member *is* its string (``ChangeKind.NEW == "new"``), so the
registry's text columns, JSON payloads and API answers hold the same strings as ever.
This module imports nothing of slidewatch: registry, archive, alerts and the look all use it.
"""

from __future__ import annotations

from enum import StrEnum


class ChangeKind(StrEnum):
    """How a landslide changed between the previous look at its AOI and this one."""

    NEW = "new"
    """Landslide ground where the previous look saw none."""
    GROWN = "grown"
    """A known landslide that gained enough new ground (``look.change.GROWTH_MIN_*``)."""
    UNCHANGED = "unchanged"
    GONE = "gone"
    """A known landslide not found again where its ground was seen."""
    UNKNOWN = "unknown"
    """Not decidable: too much of its ground was unseen on either date."""
    MERGED = "merged"
    """A known landslide now part of another's polygon (``merged_into``)."""
    SPLIT = "split"
    """A new identity for a part split off a known landslide (``split_from``)."""
    BASELINE = "baseline"
    """The first look at an AOI: nothing to compare with (recorded as no change row)."""


COUNTED_KINDS: tuple[ChangeKind, ...] = (
    ChangeKind.NEW,
    ChangeKind.GROWN,
    ChangeKind.UNCHANGED,
    ChangeKind.GONE,
    ChangeKind.UNKNOWN,
)
"""The kinds every run's counts show, zeros included (the API and the web map)."""

ALERTED_KINDS: tuple[ChangeKind, ...] = (ChangeKind.NEW, ChangeKind.GROWN)
"""Kinds whose changed area may raise an alert (at least the AOI's ``min_new_area_m2``)."""


class RunState(StrEnum):
    """Where a run stands: ``queued`` → ``running`` → ``done`` | ``skipped`` | ``failed``."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


FINISHED_STATES: tuple[RunState, ...] = (RunState.DONE, RunState.SKIPPED, RunState.FAILED)
"""The states of a look the schedule counts."""


class DeliveryState(StrEnum):
    """An alert's delivery to one target: pending until delivered or given up."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


# Classes of the change raster (uint8; 255 is its nodata value).
NONE, NEW, PERSISTING, GONE, UNKNOWN = 0, 1, 2, 3, 255
CHANGE_CLASSES = {NONE: "none", NEW: "new", PERSISTING: "persisting", GONE: "gone",
                  UNKNOWN: "unknown"}  # fmt: skip
"""Change raster value -> name (written into the raster's tags)."""


class Confidence(StrEnum):
    """How sure slidewatch is that a landslide is real (rules: :mod:`..confidence`)."""

    POSSIBLE = "possible"
    """Seen on one clear acquisition."""
    CONFIRMED = "confirmed"
    """Seen again on a later acquisition that saw its ground, or reviewed as real."""
    REJECTED = "rejected"
    """Reviewed as wrong: not alerted again unless it grows (``confidence.REGROWTH_FACTOR``)."""


class Verdict(StrEnum):
    """What a reviewer says of a landslide."""

    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class AlertKind(StrEnum):
    """What an alert tells (its CloudEvents type is ``org.slidewatch.landslide.<kind>``)."""

    NEW = "new"
    """A landslide seen for the first time (confidence ``possible``)."""
    CONFIRMED = "confirmed"
    """A landslide alerted before, seen again: now ``confirmed``."""
    GROWN = "grown"
    """A known landslide that gained ground."""


class AlertOn(StrEnum):
    """Per AOI: the least confidence an alert must have to be sent."""

    POSSIBLE = "possible"
    """Every event as soon as it is seen (the default: nothing later than today)."""
    CONFIRMED = "confirmed"
    """Only events of confirmed landslides (a second look, or a review)."""


class Grouping(StrEnum):
    """Per AOI: how a run's alerts travel to a target."""

    AUTO = "auto"
    """One event per landslide, a digest when a run has more than ``DIGEST_ABOVE``."""
    EVENT = "event"
    """Always one event per landslide."""
    DIGEST = "digest"
    """Always one digest per run."""


DIGEST_ABOVE = 5
"""``auto`` grouping sends a digest when a run has more alerts than this for a target."""
