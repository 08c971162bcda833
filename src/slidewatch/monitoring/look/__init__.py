"""The look: when an AOI is due (``schedule``, pure), one look at it (``look``: search, then
one run per new acquisition), one run (``run``: fetch → detect → change → archive →
record), what a look and a run carry (``context``), change between two looks (``change``,
pure), a run's results (``results``) and their recording in one transaction (``record``),
``run-once`` over every due AOI (``cycle``) and runs asked for by a client (``queue``).
"""

from slidewatch.monitoring.look.context import MonitorConfig, Outcome
from slidewatch.monitoring.look.look import look_at

__all__ = ["MonitorConfig", "Outcome", "look_at"]
