"""Searching a STAC API (pystac-client), with retries and clear errors.

Requests that answer 500/502/503/504 or time out are retried ``config.retries`` times with
exponential backoff (0.5 s, 1 s, 2 s, …; urllib3's ``Retry``, POST included); then a
:class:`~slidewatch.errors.SourceError` names the URL and what failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slidewatch.acquisition.stac.finders import ItemQuery
from slidewatch.acquisition.stac.items import ParsedItem, parse_item
from slidewatch.errors import SourceError

if TYPE_CHECKING:
    from slidewatch.acquisition.options import StacConfig

RETRY_STATUS = (500, 502, 503, 504)
BACKOFF_S = 0.5


def retry_policy(retries: int, backoff_s: float = BACKOFF_S) -> Any:
    """urllib3 ``Retry`` for catalogue requests: 5xx and timeouts, any method, backoff."""
    from urllib3.util.retry import Retry

    return Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        status_forcelist=RETRY_STATUS,
        allowed_methods=None,
        backoff_factor=backoff_s,
        raise_on_status=True,
    )


class ApiFinder:
    """Items from a STAC API's ``/search``, filtered locally by the same query."""

    def __init__(self, config: StacConfig, backoff_s: float = BACKOFF_S) -> None:
        self._config = config
        self._backoff_s = backoff_s
        self._client: Any = None

    def _open(self) -> Any:
        if self._client is None:
            from pystac_client import Client
            from pystac_client.stac_api_io import StacApiIO

            io = StacApiIO(
                timeout=self._config.timeout_s,
                max_retries=retry_policy(self._config.retries, self._backoff_s),
            )
            timeout = self._config.timeout_s
            self._client = self._call(
                lambda: Client.open(self._config.stac_url, stac_io=io, timeout=timeout)
            )
        return self._client

    def _call(self, request: Any) -> Any:
        from pystac_client.exceptions import APIError

        try:
            return request()
        except APIError as exc:  # pystac-client wraps the requests error: judge its cause
            cause = exc.__cause__ or exc.__context__
            if cause is not None and not isinstance(cause, APIError):
                self._raise_for(cause)
            raise SourceError(
                f"the STAC API {self._config.stac_url} answered an error: {exc}; check "
                "--stac-url and --collection"
            ) from exc
        except Exception as exc:
            self._raise_for(exc)
            raise

    def _raise_for(self, exc: BaseException) -> None:
        import requests

        url = self._config.stac_url
        if isinstance(exc, requests.exceptions.RetryError):
            raise SourceError(
                f"the STAC API {url} kept failing after {self._config.retries} retries "
                f"({exc}); try again later or check --stac-url"
            ) from exc
        timed_out = isinstance(exc, requests.exceptions.Timeout) or "timed out" in str(exc)
        if timed_out:  # urllib3 reports read timeouts after retries as a ConnectionError
            raise SourceError(
                f"the STAC API {url} did not answer within {self._config.timeout_s:g} s after "
                f"{self._config.retries} retries; try again later or check --stac-url"
            ) from exc
        if isinstance(exc, requests.exceptions.ConnectionError):
            raise SourceError(
                f"the STAC API {url} could not be reached after {self._config.retries} retries "
                f"({exc}); check --stac-url and the network"
            ) from exc

    def items(self, query: ItemQuery) -> list[ParsedItem]:
        client = self._open()
        found = self._call(lambda: list(client.search(**query.search_parameters()).items()))
        return [parsed for parsed in map(parse_item, found) if query.matches(parsed)]
