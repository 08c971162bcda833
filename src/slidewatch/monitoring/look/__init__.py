"""The look: when an AOI is due (``schedule``), one look at it (``look``: search, then one run
per new acquisition), ``run-once`` over every due AOI (``cycle``), runs asked for by a client
(``queue``), change between two looks (``change``, pure) and a run's results (``results``).
"""

from slidewatch.monitoring.look.look import MonitorConfig, Outcome, look_at

__all__ = ["MonitorConfig", "Outcome", "look_at"]
