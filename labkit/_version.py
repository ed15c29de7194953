"""The labkit version, in one place (``labkit.__version__`` and recordings' provenance)."""
__version__ = "0.1.0"
