"""Monitoring must run on a small install: importing it never loads torch or Lightning."""

from __future__ import annotations

import subprocess
import sys

MODULES = [
    "slidewatch.monitoring",
    *(
        f"slidewatch.monitoring.{m}"
        for m in ("alerts", "alerts.channels", "alerts.outbox", "alerts.payload", "archive",
                  "archive.admission", "archive.catalogue", "archive.products", "archive.storage",
                  "history", "imagery", "kinds", "look", "look.change", "look.context",
                  "look.cycle", "look.look", "look.queue", "look.record", "look.results",
                  "look.run", "look.schedule", "registry", "registry.aois", "registry.counts",
                  "registry.database", "registry.queries", "registry.records", "registry.runs",
                  "registry.tables")
    ),
    "slidewatch.cli.monitor",
    "slidewatch.inference.detect",  # what a run calls, with the onnx engine
    "slidewatch.acquisition.stack",
    "slidewatch.synthetic.example",  # the monitoring example
]  # fmt: skip


def test_monitoring_imports_no_torch() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in MODULES)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'lightning'))\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
