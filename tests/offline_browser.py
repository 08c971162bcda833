"""Debian's headless Chromium that may reach 127.0.0.1 only: every other request is refused
and recorded, so a page that needs the internet fails its test (the browser tests' one
set-up: the web map, the labeling page, the API docs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--no-sandbox"]
LOCAL = ("http://127.0.0.1:", "data:")
"""Request URLs let through; everything else is refused."""


@dataclass
class OfflineBrowser:
    """A browser context behind the 127.0.0.1 guard, and what its pages did wrong."""

    context: Any
    console_errors: bool = False
    """Also record ``console.error`` messages as errors."""
    errors: list[str] = field(default_factory=list)
    """Uncaught page errors (and console errors when asked)."""
    refused: list[str] = field(default_factory=list)
    """URLs refused by the guard."""

    def open(self, url: str) -> Any:
        """A new page at ``url``, its errors recorded."""
        tab = self.context.new_page()
        tab.on("pageerror", lambda e: self.errors.append(str(e)))
        if self.console_errors:
            tab.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        tab.goto(url)
        return tab


@contextmanager
def offline_chromium(
    chromium_path: str, width: int, height: int, console_errors: bool = False
) -> Iterator[OfflineBrowser]:
    """Chromium at ``chromium_path`` with a ``width``×``height`` viewport, 127.0.0.1 only."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": width, "height": height})
        guarded = OfflineBrowser(context, console_errors)

        def guard(route: Any) -> None:
            if route.request.url.startswith(LOCAL):
                route.continue_()
            else:
                guarded.refused.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        try:
            yield guarded
        finally:
            browser.close()
