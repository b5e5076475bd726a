"""The root of every Telegraphy error, and the errors the core raises."""


class TelegraphyError(Exception):
    """Base class of all errors raised by Telegraphy packages."""


class ConfigurationError(TelegraphyError):
    """The settings are wrong; the message says what to fix."""


class EventError(TelegraphyError):
    """An event (its name, meta or data) is not valid; the message says which part and why."""


class FilterError(TelegraphyError, ValueError):
    """A filter is not valid; the message says which part and why."""


class SignatureError(TelegraphyError):
    """A signed ingress request is refused. `code` names the reason for programs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class TransportError(TelegraphyError):
    """Events could not be delivered this time; they are kept and sent again later.

    `misconfigured` says the gateway refused us for a reason the operator must fix (a secret
    that does not match, a clock far off, ingress disabled): still retried, but logged loudly.
    """

    def __init__(self, message: str, *, misconfigured: bool = False) -> None:
        super().__init__(message)
        self.misconfigured = misconfigured


class RejectedError(TelegraphyError):
    """The gateway refused these events for good (invalid, too large); sending again won't help.

    `index` is the position in the batch of the event at fault when the gateway says it.
    """

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


class PublisherOverflow(TelegraphyError):
    """The publisher's queue (and spool, if any) is full and `on_overflow` is "raise"."""


class PublisherClosed(TelegraphyError):
    """`send()` was called after `close()`."""


class TokenError(TelegraphyError):
    """A token is refused. `code`: malformed, bad_signature, expired or not_yet_valid."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
