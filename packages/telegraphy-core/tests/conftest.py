"""Fixtures of the core's tests (defined in ingress_fake, importable by the tests too)."""

from __future__ import annotations

from ingress_fake import closed_port, hanging_url, ingress, make_envelope, make_settings

__all__ = ["closed_port", "hanging_url", "ingress", "make_envelope", "make_settings"]
