"""Alerts: CloudEvents of landslides (new, confirmed, grown) delivered through an outbox.

``payload`` builds what an alert says (from typed records of the run and the landslide),
``channels`` sends it (webhook, signed when the AOI has a secret; e-mail), ``outbox``
decides when (claims, a time budget, circuit breakers, backoff, digests).
"""

from slidewatch.monitoring.alerts.channels import SmtpSettings
from slidewatch.monitoring.alerts.outbox import Breakers, RetryPolicy, deliver_pending

__all__ = ["Breakers", "RetryPolicy", "SmtpSettings", "deliver_pending"]
