"""Labeling patches: listing with states, band views, scene context, model suggestions,
conflict-safe mask saving with an annotation log, and export. No torch, no web framework:
the page and its API live in :mod:`slidewatch.service.labeling`."""
