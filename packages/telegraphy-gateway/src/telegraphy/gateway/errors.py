"""The gateway's errors. Each that a peer may see carries its WAMP error URI."""

from __future__ import annotations

from telegraphy.core import TelegraphyError


class GatewayError(TelegraphyError):
    """Root of the gateway's errors."""


class ConfigError(GatewayError):
    """The configuration is wrong; the message says what to fix."""


class WampError(GatewayError):
    """A request the router refuses: answered with ERROR carrying `uri` and the message."""

    uri = "wamp.error.runtime_error"

    def __init__(self, message: str, uri: str | None = None) -> None:
        super().__init__(message)
        if uri is not None:
            self.uri = uri


class InvalidUri(WampError):
    uri = "wamp.error.invalid_uri"


class NotAuthorized(WampError):
    uri = "wamp.error.not_authorized"


class NoSuchSubscription(WampError):
    uri = "wamp.error.no_such_subscription"


class NoSuchRegistration(WampError):
    uri = "wamp.error.no_such_registration"


class NoSuchProcedure(WampError):
    uri = "wamp.error.no_such_procedure"


class ProcedureAlreadyExists(WampError):
    uri = "wamp.error.procedure_already_exists"


class NoSuchSession(WampError):
    uri = "wamp.error.no_such_session"


class InvalidArgument(WampError):
    uri = "wamp.error.invalid_argument"


class LimitExceeded(WampError):
    """A configured per-session limit was reached."""

    uri = "telegraphy.error.limit_exceeded"


class RateLimited(WampError):
    """A client sent faster than its configured rate (max_messages_per_second): the session
    is aborted with this URI."""

    uri = "telegraphy.error.rate_limited"


class Canceled(WampError):
    uri = "wamp.error.canceled"


class ProcedureExistsWithDifferentPolicy(WampError):
    uri = "wamp.error.procedure_exists_with_different_invocation_policy"


class ProtocolViolation(GatewayError):
    """The peer broke the protocol: the session is aborted with `wamp.error.protocol_violation`."""

    uri = "wamp.error.protocol_violation"
