"""The root of every Telegraphy error, and the errors the core raises."""


class TelegraphyError(Exception):
    """Base class of all errors raised by Telegraphy packages."""


class ConfigurationError(TelegraphyError):
    """The settings are wrong; the message says what to fix."""


class EventError(TelegraphyError):
    """An event (its name, meta or data) is not valid; the message says which part and why."""


class SignatureError(TelegraphyError):
    """A signed ingress request is refused. `code` names the reason for programs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
