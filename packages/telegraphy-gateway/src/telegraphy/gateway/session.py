"""A WAMP session on the router side: opening handshake, authentication, dispatch, closing.

This is the one place where a refused request becomes an ERROR and a protocol violation an
ABORT. Programming errors are not caught here: they surface.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from autobahn.wamp import message as wamp
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from .auth import Accept, Authenticator, Challenge, Deny, Hello, Outcome
from .authorization import Permissions
from .errors import GatewayError, InvalidArgument, ProtocolViolation, WampError
from .router.recovery import parse_request
from .wire import Codec, Raw

if TYPE_CHECKING:
    from .router.realm import Realm

log = Logger()

UNAVAILABLE = "telegraphy.error.unavailable"


class Transport(Protocol):
    """What a session needs from the connection that carries it."""

    codec: Codec

    def send_frame(self, frame: bytes) -> None: ...

    def close(self, code: int, reason: str) -> None: ...

    def details(self) -> dict[str, Any]: ...


class State:
    AWAITING_HELLO = "awaiting-hello"
    CHALLENGED = "challenged"
    AUTHENTICATING = "authenticating"  # an answer that needs the engine is on its way
    ESTABLISHED = "established"
    SHUTTING_DOWN = "shutting-down"
    CLOSED = "closed"


class Session:
    """One peer joined (or joining) the realm."""

    def __init__(self, transport: Transport, realm: Realm) -> None:
        self.transport = transport
        self.codec = transport.codec
        self.realm = realm
        self.state = State.AWAITING_HELLO
        self.id = 0
        self.authid = ""
        self.authrole = ""
        self.authmethod = ""
        self.authprovider = ""
        self.permissions: Permissions | None = None
        self.client_id: str | None = None  # browser sessions: the client record they hold
        self.roles: dict[str, Any] = {}
        self._authenticator: Authenticator | None = None
        self._handlers: dict[type[wamp.Message], Callable[[Session, Any, Raw], None]] = {
            wamp.Publish: realm.broker.publish,
            wamp.Subscribe: realm.broker.subscribe,
            wamp.Unsubscribe: realm.broker.unsubscribe,
            wamp.Call: realm.dealer.call,
            wamp.Register: realm.dealer.register,
            wamp.Unregister: realm.dealer.unregister,
            wamp.Yield: realm.dealer.yield_,
            wamp.Error: realm.dealer.invocation_error,
            wamp.Cancel: realm.dealer.cancel,
        }

    # -- sending ---------------------------------------------------------------------------

    def send(self, message: wamp.Message) -> None:
        if self.state != State.CLOSED:
            self.transport.send_frame(self.codec.frame(message))

    def send_raw(self, message: Raw) -> None:
        """Send a message given as its raw list (EVENTs the router builds itself)."""
        if self.state != State.CLOSED:
            self.transport.send_frame(self.codec.frame_raw(message))

    def abort(self, reason: str, message: str) -> None:
        """Send ABORT and close the connection; the session is over."""
        log.info(
            "aborting session {session} ({authid}): {reason}: {message}",
            session=self.id,
            authid=self.authid,
            reason=reason,
            message=message,
            event="session.aborted",
        )
        self.send(wamp.Abort(reason, message))
        self._close(1000, reason)

    def goodbye(self, reason: str, message: str) -> None:
        """Router-initiated close (shutdown): GOODBYE, then wait for the peer's GOODBYE."""
        if self.state == State.ESTABLISHED:
            self.send(wamp.Goodbye(reason, message))
            self._detach()
            self.state = State.SHUTTING_DOWN

    def kill(self, code: int, message: str) -> None:
        """Cut a session whose peer cannot keep up (its transport has written the ABORT)."""
        log.warn(
            "closing session {session}: {message}",
            session=self.id,
            message=message,
            event="session.cut",
        )
        self._close(code, message)

    def _close(self, code: int, reason: str) -> None:
        if self.state == State.ESTABLISHED:
            self._detach()
        self.state = State.CLOSED
        self.transport.close(code, reason)

    # -- receiving -------------------------------------------------------------------------

    @property
    def joining(self) -> bool:
        """Whether the opening handshake (HELLO, and CHALLENGE/AUTHENTICATE) is still under way."""
        return self.state in (State.AWAITING_HELLO, State.CHALLENGED, State.AUTHENTICATING)

    def on_message(self, message: wamp.Message, raw: Raw) -> None:
        if isinstance(message, wamp.Abort):
            # A peer may abort in any state, and an ABORT is never answered.
            if self.state != State.CLOSED:
                self._close(1000, "aborted by peer")
        elif self.state == State.ESTABLISHED:
            self._dispatch(message, raw)
        elif self.state == State.AWAITING_HELLO:
            self._on_hello(message)
        elif self.state == State.CHALLENGED:
            self._on_authenticate(message)
        elif self.state == State.AUTHENTICATING:
            name = type(message).__name__.upper()
            self.on_protocol_error(f"{name} before WELCOME")
        elif self.state == State.SHUTTING_DOWN and isinstance(message, wamp.Goodbye):
            self.state = State.CLOSED
            self.transport.close(1000, "goodbye")

    def on_protocol_error(self, text: str) -> None:
        if self.state != State.CLOSED:
            self.abort(ProtocolViolation.uri, text)

    def on_transport_closed(self) -> None:
        if self.state == State.ESTABLISHED:
            self._detach()
        self.state = State.CLOSED

    def _dispatch(self, message: wamp.Message, raw: Raw) -> None:
        handler = self._handlers.get(type(message))
        if isinstance(message, wamp.Goodbye):
            self.send(wamp.Goodbye("wamp.close.goodbye_and_out"))
            self._close(1000, "goodbye")
        elif handler is None:
            name = type(message).__name__.upper()
            self.on_protocol_error(f"{name} is not allowed in an established session")
        else:
            try:
                handler(self, message, raw)
            except WampError as e:
                self._refuse(message, e)
            except ProtocolViolation as e:
                self.on_protocol_error(str(e))

    def refuse_later(self, message: wamp.Publish | wamp.Call, failure: Failure) -> None:
        """A request refused after it was handed on (the engine could not keep a publication,
        a history read failed): ERROR, or for an unacknowledged PUBLISH a log line."""
        failure.trap(GatewayError)
        error = failure.value
        if not isinstance(error, WampError):
            error = WampError(str(error), uri=UNAVAILABLE)
        if self.state == State.ESTABLISHED:
            self._refuse(message, error)

    def _refuse(self, message: Any, error: WampError) -> None:
        if isinstance(message, wamp.Publish) and not message.acknowledge:
            # The spec answers a refused PUBLISH only when acknowledged; clients treat any
            # other ERROR for it as a protocol violation and drop the session.
            log.info(
                "refused unacknowledged publication to {topic} by session {session}: {error}",
                topic=message.topic,
                session=self.id,
                error=str(error),
                event="publication.refused",
            )
            return
        self.send(wamp.Error(message.MESSAGE_TYPE, message.request, error.uri, args=[str(error)]))

    # -- opening handshake -----------------------------------------------------------------

    def _on_hello(self, message: wamp.Message) -> None:
        if not isinstance(message, wamp.Hello):
            name = type(message).__name__.upper()
            return self.on_protocol_error(f"expected HELLO, got {name}")
        if message.realm != self.realm.name:
            return self.abort("wamp.error.no_such_realm", f"no realm {message.realm!r} here")
        self.roles = {name: features for name, features in (message.roles or {}).items()}
        self.id = self.realm.new_session_id()
        for method in message.authmethods or ["anonymous"]:
            authenticator = self.realm.authenticator(method)
            if authenticator is not None:
                self._authenticator = authenticator
                hello = Hello(message.realm, self.id, message.authid, message.authextra or {})
                return self._on_auth_step(authenticator.hello(hello))
        offered = ", ".join(message.authmethods or [])
        self.abort("wamp.error.no_matching_auth_method", f"none of [{offered}] is accepted")

    def _on_authenticate(self, message: wamp.Message) -> None:
        if not isinstance(message, wamp.Authenticate) or self._authenticator is None:
            name = type(message).__name__.upper()
            return self.on_protocol_error(f"expected AUTHENTICATE, got {name}")
        self._on_auth_step(self._authenticator.authenticate(message.signature))

    def _on_auth_step(self, outcome: Outcome | Deferred[Outcome]) -> None:
        if isinstance(outcome, Deferred):
            self.state = State.AUTHENTICATING
            outcome.addCallbacks(self._on_later_step, self._on_auth_failed)
        elif isinstance(outcome, Challenge):
            self.state = State.CHALLENGED
            self.send(wamp.Challenge(outcome.method, outcome.extra))
        elif isinstance(outcome, Deny):
            self.abort(outcome.reason, outcome.message)
        else:
            self._welcome(outcome)

    def _on_later_step(self, outcome: Outcome) -> None:
        if self.state == State.AUTHENTICATING:  # not closed meanwhile
            self._on_auth_step(outcome)

    def _on_auth_failed(self, failure: Failure) -> None:
        """The engine could not answer (a shared engine unreachable): the client may retry."""
        log.failure(
            "authentication of session {session} failed",
            failure,
            session=self.id,
            event="session.auth_failed",
        )
        if self.state == State.AUTHENTICATING:
            self.abort(UNAVAILABLE, "cannot authenticate now; try again later")

    def _welcome(self, accepted: Accept) -> None:
        self._authenticator = None
        self.authid = accepted.authid
        self.authrole = accepted.authrole
        self.authmethod = accepted.authmethod
        self.authprovider = accepted.authprovider
        self.permissions = self.realm.permissions_for(accepted)
        self.state = State.ESTABLISHED
        authextra = accepted.authextra
        recoveries: list[Any] = []
        if accepted.identity is not None:
            try:
                recover = parse_request(accepted.recover, None)
            except InvalidArgument as e:
                return self.abort(InvalidArgument.uri, f"authextra.{e}")
            # Restores a resumed client's subscriptions: its EVENTs may follow WELCOME at once.
            authextra, recoveries = self.realm.clients.open(self, accepted.identity, recover)
        self.send(
            wamp.Welcome(
                self.id,
                self.realm.roles,
                realm=self.realm.name,
                authid=self.authid,
                authrole=self.authrole,
                authmethod=self.authmethod,
                authprovider=self.authprovider,
                authextra=authextra or None,
            )
        )
        for subscription, request in recoveries:
            self.realm.broker.recover(self, subscription, request)
        self.realm.attach(self)
        log.debug(
            "session {session} joined as {authid} ({authrole}, {authmethod})",
            session=self.id,
            authid=self.authid,
            authrole=self.authrole,
            authmethod=self.authmethod,
            event="session.joined",
        )

    def _detach(self) -> None:
        self.realm.detach(self)
        log.debug("session {session} left", session=self.id, event="session.left")

    # -- introspection ---------------------------------------------------------------------

    def details(self) -> dict[str, Any]:
        """The session as the meta API describes it (`wamp.session.get`)."""
        return {
            "session": self.id,
            "authid": self.authid,
            "authrole": self.authrole,
            "authmethod": self.authmethod,
            "authprovider": self.authprovider,
            "transport": self.transport.details(),
        }

    def wants(self, role: str, feature: str) -> bool:
        """Whether the peer announced `feature` for `role` in its HELLO."""
        # autobahn's HELLO parser gives each role as a RoleFeatures object, features as attributes.
        return bool(getattr(self.roles.get(role), feature, None))
