"""Alerts: one per landslide, ever, delivered through an outbox.

``payload`` builds what an alert says (from typed records of the run and the landslide),
``channels`` sends it (webhook, e-mail), ``outbox`` decides when (claims, retries, backoff).
"""

from slidewatch.monitoring.alerts.channels import SmtpSettings
from slidewatch.monitoring.alerts.outbox import RetryPolicy, deliver_pending

__all__ = ["RetryPolicy", "SmtpSettings", "deliver_pending"]
