"""slidewatch: find and monitor landslides in satellite imagery."""

__version__ = "0.1.0"
