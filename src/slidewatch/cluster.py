"""The one Dask set-up of slidewatch: a client of a running scheduler (``--dask-address``), or
of a local cluster of single-threaded worker processes on 127.0.0.1 that the client owns and
closes with it. ``detect`` spreads window rows over it; ``monitor run-once`` spreads looks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slidewatch.errors import ConfigError

CONNECT_TIMEOUT = "10s"
"""How long a client waits for a running scheduler before saying it cannot reach it."""


@contextmanager
def dask_client(
    workers: int | None = None, address: str | None = None, *, pin_cores: bool = False
) -> Iterator[Any]:
    """A ``distributed.Client`` of the scheduler at ``address``, else of a new local cluster
    of ``workers`` processes (None: Dask's choice); closed, with a local cluster, on exit.
    ``pin_cores``: give each local worker its own share of this process's cores (for work
    that runs one task per worker and threads inside it)."""
    from distributed import Client, LocalCluster

    if address:
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(
                f"cannot reach the Dask scheduler at {address} ({exc}); start it or fix "
                "--dask-address"
            ) from exc
        with client:
            yield client
        return
    if workers is not None and workers < 1:
        raise ConfigError(f"{workers} Dask workers asked for; give at least 1")
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                     dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        if pin_cores and hasattr(os, "sched_setaffinity"):
            _pin_workers(client)
        yield client


def _pin_workers(client: Any) -> None:
    workers = sorted(client.scheduler_info()["workers"])
    cores = sorted(os.sched_getaffinity(0))
    share = max(1, len(cores) // len(workers))
    for index, address in enumerate(workers):
        mine = cores[(index * share) % len(cores) :][:share]
        client.run(os.sched_setaffinity, 0, mine, workers=[address])
