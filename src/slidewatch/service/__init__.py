"""The web service: FastAPI routers and pages (no torch)."""
