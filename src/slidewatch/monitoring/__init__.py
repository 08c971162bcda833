"""Monitoring: areas of interest watched on a schedule, change since the last look, alerts.

Never imports torch or Lightning (detection runs through the ONNX engine); a test checks it.

What the web service (and any other client) calls — all on one :class:`Registry`::

    from slidewatch.monitoring.registry import Registry
    from slidewatch.monitoring.registry.aois import AoiSettings

    registry = Registry(url)          # any SQLAlchemy URL; migrates the schema on open
    registry.add_aoi(AoiSettings(name=..., geometry=geojson, model_path=..., model_hash=...))
    registry.get_aoi(name)            # -> tables.Aoi (.to_dict()); RegistryError if unknown
    registry.list_aois(active=None)   # -> [Aoi]
    registry.update_aoi(name, cadence_days=10, active=False, ...)  # any AoiSettings field
    registry.delete_aoi(name)
    registry.runs(name, limit=None)   # -> [Run] newest acquisition first (.to_dict())
    registry.run(run_id)              # -> Run; RegistryError if unknown
    registry.detections_geojson(run_id)  # FeatureCollection (lon/lat) with landslide_id, area_m2
    registry.changes_geojson(run_id)     # FeatureCollection, kind: new/grown/unchanged/gone/unknown
    registry.alerts_since(datetime_utc, aoi=None)  # -> [Alert] with .payload and .deliveries

    from slidewatch.application.review import ReviewRequest, landslide, review_landslide
    landslide(registry, landslide_id)             # -> LandslideDetail (confidence, looks,
                                                  #    attributes, reviews, alerts)
    review_landslide(registry, ReviewRequest(id, Verdict.REJECTED, "key-name", "note"))

Errors are :mod:`slidewatch.errors` classes: ``RegistryError`` (a ``KeyError``: 404) for
unknown names or ids, ``ConfigError`` (a ``ValueError``: 422/400) for invalid settings.
Products of a run are listed in ``Run.products`` (name -> URL under the storage root).

Subpackages, by concern (each imports only those above it: no hop back up):

- ``registry`` — the database: tables, migrations, AOI settings, run claims, counts;
- ``archive`` — the run's product files and the fsspec archive with its STAC catalogue;
- ``alerts`` — CloudEvents payloads and digests; the outbox: signed webhooks and SMTP
  within a time budget, circuit breakers, backoff;
- ``look`` — schedule, one look, ``run-once``, queued runs, change, a run's results.

Beside them: ``kinds`` (change kinds, run and delivery states, confidence, verdicts, alert
kinds: the words all of them share), ``confidence`` (the confidence and alert rules, pure),
``imagery`` (the one place monitoring calls acquisition and inference) and ``history``
(time series and figures).
"""
