"""Telegraphy for Django: model events that reach the browser in real time."""

__version__ = "0.1.0"
