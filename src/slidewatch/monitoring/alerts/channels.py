"""How an alert reaches a person or a system: a webhook (HTTP POST of the JSON payload) or
an e-mail (SMTP: a short text with the JSON attached). Each sender raises on failure; the
outbox (:mod:`.outbox`) decides about retries."""

from __future__ import annotations

import json
import smtplib
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from slidewatch.monitoring.alerts.targets import TargetRules


@dataclass(frozen=True)
class SmtpSettings:
    """Where e-mail goes (``run-once --smtp-host``, env ``SLIDEWATCH_SMTP_*``)."""

    host: str = "localhost"
    port: int = 25
    sender: str = "slidewatch@localhost"
    user: str | None = None
    password: str | None = None
    starttls: bool = False


def post_webhook(
    url: str, payload: dict[str, Any], key: str, timeout_s: float, targets: TargetRules
) -> None:
    """POST ``payload`` as JSON; any answer but 2xx raises; a target inside the server's
    network (after DNS resolution) raises ConfigError."""
    targets.check_resolved(url)
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": key,
                 "User-Agent": "slidewatch-monitor"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=timeout_s) as answer:
        if not 200 <= answer.status < 300:
            raise OSError(f"HTTP {answer.status}")


def send_email(
    address: str, payload: dict[str, Any], key: str, smtp: SmtpSettings, timeout_s: float
) -> None:
    """Send the alert as a short text e-mail with the JSON payload attached."""
    message = EmailMessage()
    message["Subject"] = email_subject(payload)
    message["From"], message["To"], message["Message-ID"] = smtp.sender, address, f"<{key}>"
    message.set_content(email_body(payload))
    message.add_attachment(
        json.dumps(payload, indent=1).encode(), maintype="application", subtype="json",
        filename="alert.json",
    )  # fmt: skip
    with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout_s) as server:
        if smtp.starttls:
            server.starttls()
        if smtp.user:
            server.login(smtp.user, smtp.password or "")
        server.send_message(message)


def email_subject(payload: dict[str, Any]) -> str:
    ls = payload["landslide"]
    return (
        f"[slidewatch] {payload['aoi']['name']}: {ls['kind']} landslide of "
        f"{ls['changed_area_m2']:.0f} m² on {payload['acquisition']['date']}"
    )


def email_body(payload: dict[str, Any]) -> str:
    ls, acq = payload["landslide"], payload["acquisition"]
    lines = [
        email_subject(payload).removeprefix("[slidewatch] "),
        f"Landslide {ls['id']}: area {ls['area_m2']:.0f} m², mean probability "
        f"{ls['mean_probability']:.2f}, centre {ls['centroid_lonlat']}",
        f"Scenes: {', '.join(acq['scene_ids'])} (cloud over the AOI: {acq['cloud_pct']}%)",
        f"Model: {payload['model']['path']} (sha256 {payload['model']['hash'][:12]}…)",
        "Products:",
        *(f"  {name}: {url}" for name, url in payload["products"].items()),
    ]
    return "\n".join(lines) + "\n"
