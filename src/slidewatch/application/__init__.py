"""The application layer: what the edges (the CLI, the service, the scheduler) ask of the
domain, one function per use case, typed requests in and typed results out.

- :mod:`.settings` — :class:`HomeSettings` (a home's settings from ``SLIDEWATCH_*`` and flags)
  and :class:`HomeLayout` (where the home keeps registry, archive, work, jobs, models)
- :mod:`.aois` — :func:`register_aoi` (``monitor add``, ``POST /aois``)
- :mod:`.runs` — :func:`run_due` (``monitor run-once``, the scheduler), :func:`queue_run` and
  :func:`run_queued` (run now)
- :mod:`.detection` — :func:`detect_area` (the OGC ``detect`` process)
- :mod:`.models` — :func:`named_model` (a home's models, chosen by name)
- :mod:`.review` — :func:`review_landslide` (``monitor review``, ``POST /landslides/{id}/review``)
  and :func:`landslide` (``GET /landslides/{id}``)

Nothing here imports torch; every edge that offers a use case calls the function here.
"""
