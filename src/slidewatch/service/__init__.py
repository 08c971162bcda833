"""The slidewatch service: a REST API over the monitoring registry and archive, PNG tiles of
archived products, OGC API - Processes for detection, and a web map (``GET /``).

``create_app`` (in :mod:`slidewatch.service.app`) builds the FastAPI app; ``slidewatch serve``
runs it with uvicorn. Nothing in this package imports torch: detection jobs run in worker
processes (the ONNX engine or the monitoring runner).
"""
