"""The shared-queue domain and its persistence: no Textual, no Rich."""

__version__ = "0.1.0"
