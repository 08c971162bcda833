"""Webhook targets cannot reach the server's own network: at registration, as written, and at
send time, after DNS resolution (the SSRF targets of issue 22, replayed)."""

from __future__ import annotations

import pytest

from slidewatch.errors import ConfigError
from slidewatch.monitoring.alerts.targets import (
    RefusedTarget,
    TargetRules,
    literal_address,
    parse_networks,
)

INTERNAL = [
    "http://127.0.0.1:22/",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://[::1]:6379/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://127.1/",
    "http://0177.0.0.1/",
    "http://localhost:5432/",
    "http://LOCALHOST./x",
    "http://app.localhost/x",
    "http://10.1.2.3/",
    "http://192.168.0.1/",
    "http://172.16.0.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0:8000/",
    "http://[::]/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://224.0.0.1/",
    "http://239.255.255.250:1900/",
]
MALFORMED = [
    "http://user:pass@127.0.0.1/",
    "https://user:pass@hooks.example.org/x",
    "https://token@hooks.example.org/x",
    "ftp://hooks.example.org/x",
    "file:///etc/passwd",
    "gopher://hooks.example.org:70/",
    "http:///nohost",
    "http://hooks.example.org:99999/",
]


@pytest.mark.parametrize("url", INTERNAL + MALFORMED)
def test_internal_and_malformed_targets_are_refused_at_registration(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        TargetRules().check(url)
    assert "pass@" not in str(caught.value) and "token@" not in str(caught.value)


def test_public_targets_pass_and_allowed_networks_open_an_internal_one() -> None:
    TargetRules().check("https://hooks.example.org/hook?token=abc")
    TargetRules().check("http://8.8.8.8:8080/x")
    local = TargetRules(parse_networks("127.0.0.0/8, ::1/128"))
    local.check("http://127.0.0.1:9/hook")
    local.check("http://localhost:9/hook")  # 127.0.0.1 and ::1, both allowed
    with pytest.raises(ConfigError, match=r"169\.254\.169\.254"):
        local.check("http://169.254.169.254/")


def test_numeric_forms_are_read_as_the_address_a_resolver_would_use() -> None:
    assert str(literal_address("0x7f000001")) == "127.0.0.1"
    assert str(literal_address("2130706433")) == "127.0.0.1"
    assert str(literal_address("[::1]")) == "::1"
    assert literal_address("hooks.example.org") is None


def test_send_time_check_refuses_a_public_name_that_resolves_inside() -> None:
    rules = TargetRules()
    url = "https://rebind.example.org/hook"
    rules.check(url)  # as written: a public name
    with pytest.raises(RefusedTarget, match=r"10\.0\.0\.5"):
        rules.check_resolved(url, resolve=lambda host: ["93.184.216.34", "10.0.0.5"])
    rules.check_resolved(url, resolve=lambda host: ["93.184.216.34"])


def test_too_many_targets_are_refused() -> None:
    hooks = [f"https://hooks.example.org/{i}" for i in range(8)]
    TargetRules(max_targets=10).check_all(hooks, ["a@example.org", "b@example.org"])
    with pytest.raises(ConfigError, match="limit of 10"):
        TargetRules(max_targets=10).check_all(hooks, ["a@x.org", "b@x.org", "c@x.org"])


def test_a_bad_allow_list_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="SLIDEWATCH_WEBHOOK_ALLOW_NETWORKS"):
        parse_networks("127.0.0.0/8,intranet")


def test_delivery_to_an_internal_receiver_is_refused_at_send_time(db_url: str, receiver) -> None:  # type: ignore[no-untyped-def]
    from tests.monitoring.alerts.test_alerts import FAST, _alert

    from slidewatch.monitoring.alerts import deliver_pending
    from slidewatch.monitoring.registry import Registry
    from slidewatch.monitoring.registry.tables import Delivery

    url, handler = receiver  # 127.0.0.1, registered before the rule (or by hand in the table)
    with Registry(db_url) as registry:
        _alert(registry, [("webhook", url)])
        counts = deliver_pending(registry, policy=FAST)
        assert counts["delivered"] == 0
        with registry.session() as s:
            (row,) = s.query(Delivery).all()
            assert "RefusedTarget" in (row.last_error or "") and "127.0.0.1" in row.last_error
    assert handler.received == []
