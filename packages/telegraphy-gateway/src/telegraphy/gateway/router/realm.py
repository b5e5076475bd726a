"""A realm: the sessions joined to it, its broker and dealer, and who may do what in it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from autobahn.wamp.role import RoleBrokerFeatures, RoleDealerFeatures, RoleFeatures
from twisted.internet import reactor
from twisted.internet.interfaces import IReactorTime

from ..auth import Accept, Authenticator
from ..auth.anonymous import AnonymousAuthenticator
from ..auth.ticket import TicketAuthenticator
from ..auth.wampcra import WampCraAuthenticator
from ..authorization import AllowAll, Permissions, TokenPermissions
from ..config import GatewayConfig
from ..engines.base import Engine
from ..webhooks import PresenceWebhooks
from .broker import Broker
from .clients import ClientRegistry
from .dealer import Dealer
from .ids import unique_id
from .meta import MetaApi
from .presence import PresenceTracker
from .procedures import RouterProcedures

if TYPE_CHECKING:
    from ..session import Session

ROLES: dict[str, RoleFeatures] = {
    "broker": RoleBrokerFeatures(
        publisher_identification=True,
        pattern_based_subscription=True,
        session_meta_api=True,
        subscription_meta_api=True,
        subscriber_blackwhite_listing=True,
        publisher_exclusion=True,
    ),
    "dealer": RoleDealerFeatures(
        caller_identification=True,
        pattern_based_registration=True,
        session_meta_api=True,
        shared_registration=True,
        call_canceling=True,
        progressive_call_results=True,
    ),
}
"""Exactly the advanced features this router implements, announced in WELCOME."""


class Realm:
    """A realm, with what outlives a connection kept by `engine` (streams, client records,
    spent tokens)."""

    def __init__(
        self, config: GatewayConfig, engine: Engine, clock: IReactorTime = reactor
    ) -> None:
        self.name = config.realm
        self.config = config
        self.limits = config.limits
        self.roles = ROLES
        self.engine = engine
        self.sessions: dict[int, Session] = {}
        self.broker = Broker(self, engine.streams, config.history.max_recover)
        self.dealer = Dealer(self)
        self.meta = MetaApi(self)
        self.procedures = RouterProcedures(self)
        self.clients = ClientRegistry(engine.clients, self.broker, engine.streams, config)
        self.presence = PresenceTracker(
            engine.presence,
            self.clients,
            config.channel_prefix,
            config.presence.leave_delay,
            clock,
        )
        self.presence.publish = self.broker.publish_meta
        self.presence.webhooks = _webhooks(config)
        self._authenticators: dict[str, Callable[[], Authenticator]] = {
            "anonymous": lambda: AnonymousAuthenticator(self.clients),
            "wampcra": lambda: WampCraAuthenticator(self.config.backends),
        }
        secret = config.secret
        if secret is not None:  # tokens are signed with the shared secret: none, no tickets
            ledger = engine.tokens
            self._authenticators["ticket"] = lambda: TicketAuthenticator(
                secret, ledger, self.clients
            )

    def reconfigure(self, config: GatewayConfig) -> None:
        """Take the public topics, backends and limits of `config` (SIGHUP) for the sessions
        that join from now on; the name, secret and engine stay those of the start."""
        self.config = config
        self.limits = config.limits

    def authenticator(self, method: str) -> Authenticator | None:
        factory = self._authenticators.get(method)
        return factory() if factory else None

    def permissions_for(self, accepted: Accept) -> Permissions:
        identity = accepted.identity
        if identity is None:  # a backend
            return AllowAll()
        config = self.config
        return TokenPermissions(
            identity.user,
            identity.grants,
            config.public,
            config.topic_prefix,
            config.channel_prefix,
        )

    def new_session_id(self) -> int:
        return unique_id(self.sessions)

    def attach(self, session: Session) -> None:
        self.sessions[session.id] = session
        self.presence.rejoin(session)
        self.meta.on_join(session)

    def detach(self, session: Session) -> None:
        if self.sessions.pop(session.id, None) is None:
            return
        self.broker.remove_session(session)
        self.dealer.remove_session(session)
        self.presence.closed(session)
        self.clients.closed(session)
        self.meta.on_leave(session)


def _webhooks(config: GatewayConfig) -> PresenceWebhooks | None:
    """The presence webhooks' sender, when `[presence] webhook_url` names one."""
    presence = config.presence
    if presence.webhook_url is None or config.secret is None:
        return None
    return PresenceWebhooks(
        presence.webhook_url,
        config.secret,
        attempts=presence.webhook_attempts,
        capacity=presence.webhook_queue,
        timeout=presence.webhook_timeout,
        reactor=reactor,
    )
