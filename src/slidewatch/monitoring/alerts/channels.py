"""How an alert reaches a person or a system: a webhook (HTTP POST of the CloudEvents JSON,
signed by the Standard Webhooks rules when the AOI has a secret) or an e-mail (SMTP: a
readable subject and first line, the JSON attached). Each sender raises
:class:`DeliveryError` on failure, with the HTTP status when there was one; the outbox
(:mod:`.outbox`) decides about retries.

A webhook never follows a redirect: a 3xx is a failed attempt (a redirect turns the POST
into a GET without its body on many clients, and may point anywhere)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from slidewatch.monitoring.alerts.targets import RefusedTarget, TargetRules


@dataclass(frozen=True)
class SmtpSettings:
    """Where e-mail goes (``run-once --smtp-host``, env ``SLIDEWATCH_SMTP_*``)."""

    host: str = "localhost"
    port: int = 25
    sender: str = "slidewatch@localhost"
    user: str | None = None
    password: str | None = None
    starttls: bool = False


class DeliveryError(OSError):
    """A failed attempt: the receiver's status (``HTTP 503``), or why there was none."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def body_of(envelope: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed)."""
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


def signature_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers: ``webhook-id``, ``webhook-timestamp`` and
    ``webhook-signature`` = ``v1,`` base64 HMAC-SHA256 of ``id.timestamp.body`` under the
    secret (``whsec_`` + base64 of the key)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": f"v1,{digest}"}  # fmt: skip


def http_client() -> Any:
    """The client a pass through the outbox shares (its connections and TLS set-up reused):
    no redirects followed, no proxy or credentials from the environment."""
    import httpx

    return httpx.Client(follow_redirects=False, trust_env=False)


def post_webhook(
    url: str, body: bytes, headers: dict[str, str], connect_s: float, read_s: float,
    targets: TargetRules, client: Any = None,
) -> int:  # fmt: skip
    """POST ``body``; return the status, or raise :class:`DeliveryError` for anything but
    2xx (redirects included: they are not followed) and for a target inside the server's
    network after DNS resolution (``targets``). ``client``: :func:`http_client`'s (one is
    made for this request without it)."""
    import httpx

    try:
        targets.check_resolved(url)
    except RefusedTarget as exc:
        raise DeliveryError(f"RefusedTarget: {exc}") from exc

    timeout = httpx.Timeout(connect=connect_s, read=read_s, write=read_s, pool=connect_s)
    sent = {"Content-Type": "application/cloudevents+json", "User-Agent": "slidewatch-monitor",
            **headers}  # fmt: skip
    own = client is None
    client = http_client() if own else client
    try:
        answer = client.post(url, content=body, headers=sent, timeout=timeout)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        if own:
            client.close()
    status = answer.status_code
    if not 200 <= status < 300:
        moved = " (redirects are not followed: register the final URL)" if status < 400 else ""
        raise DeliveryError(f"HTTP {status}{moved}", status)
    return status


def send_email(
    address: str, envelope: dict[str, Any], key: str, smtp: SmtpSettings, timeout_s: float
) -> None:
    """Send the alert as a short text e-mail with the JSON envelope attached."""
    message = EmailMessage()
    message["Subject"] = email_subject(envelope)
    message["From"], message["To"] = smtp.sender, address
    message["Message-ID"] = f"<{key}@slidewatch>"
    message.set_content(email_body(envelope))
    message.add_attachment(
        json.dumps(envelope, indent=1).encode(), maintype="application", subtype="json",
        filename="alert.json",
    )  # fmt: skip
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout_s) as server:
            if smtp.starttls:
                server.starttls()
            if smtp.user:
                server.login(smtp.user, smtp.password or "")
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


def _place(data: dict[str, Any]) -> str:
    lon, lat = data["landslide"]["centroid_lonlat"]
    return f"{abs(lat):.4f}°{'N' if lat >= 0 else 'S'} {abs(lon):.4f}°{'E' if lon >= 0 else 'W'}"


def email_subject(envelope: dict[str, Any]) -> str:
    """Kind, confidence, area, place and date: what a responder decides on."""
    data = envelope["data"]
    if "events" in data:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(data["kinds"].items()))
        return (f"[slidewatch] {data['aoi']}: {data['count']} landslide alerts ({kinds}) "
                f"on {data['acquisition']['date']}")  # fmt: skip
    ls = data["landslide"]
    return (
        f"[slidewatch] {data['aoi']['name']}: {data['kind']} landslide ({data['confidence']}), "
        f"{ls['area_m2']:,.0f} m² at {_place(data)} on {data['acquisition']['date']}"
    )


def email_body(envelope: dict[str, Any]) -> str:
    """The subject again as the first line, the link to the map, then the details."""
    data = envelope["data"]
    events = data.get("events", [envelope])
    lines = [email_subject(envelope).removeprefix("[slidewatch] "), ""]
    for event in events:
        d = event["data"]
        ls, acq = d["landslide"], d["acquisition"]
        lines += [
            f"{d['kind']} ({d['confidence']}): landslide {ls['id']}, {ls['area_m2']:,.0f} m² "
            f"(changed {ls['changed_area_m2']:,.0f} m²), probability {ls['probability']:.2f}, "
            f"at {_place(d)}, seen {ls['looks']}× ({ls['first_seen']} … {ls['last_seen']})",
            f"  map: {d['links']['map']}",
            f"  slope {ls['mean_slope_deg']}°, NDVI change {ls['vegetation_change']}, "
            f"elevation {ls['elevation_m']} m",
            f"  scenes {', '.join(acq['scene_ids'])} (cloud {acq['cloud_pct']}%), model "
            f"{d['model']['name']} ({d['model']['hash'][:12]}, F1 {d['model']['validation_f1']})",
            f"  alert id {d['alert_id']}",
        ]
    return "\n".join(lines) + "\n"
