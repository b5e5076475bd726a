"""The root of every Telegraphy error, whichever package raises it."""


class TelegraphyError(Exception):
    """Base class of all errors raised by Telegraphy packages."""
