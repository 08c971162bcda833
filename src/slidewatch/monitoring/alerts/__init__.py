"""Alerts: one per landslide, ever, delivered through an outbox (``outbox``: webhook and
SMTP delivery with retries)."""

from slidewatch.monitoring.alerts.outbox import RetryPolicy, SmtpSettings, deliver_pending

__all__ = ["RetryPolicy", "SmtpSettings", "deliver_pending"]
