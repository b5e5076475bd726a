"""Telegraphy's core: what the web app, the gateway and the browser agree on."""

from __future__ import annotations

__version__ = "0.1.0"

from ._errors import TelegraphyError

__all__ = ["TelegraphyError", "__version__"]
