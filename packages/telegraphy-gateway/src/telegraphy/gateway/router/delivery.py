"""What subscribers are sent: the EVENT for a publication on a subscription, and who among
the sessions may receive it (the publisher's exclusion and black/white lists)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from autobahn.wamp import message as wamp

from ..engines.base import Audience, Entry, Publisher

if TYPE_CHECKING:
    from ..session import Session
    from .subscription import Subscription

EVENT = wamp.Event.MESSAGE_TYPE


def event_message(subscription: Subscription, entry: Entry, recovered: bool = False) -> list[Any]:
    """The EVENT for `entry` on `subscription`, as a raw message (details carry its position)."""
    draft = entry.draft
    details: dict[str, Any] = {"offset": entry.offset, "epoch": entry.epoch}
    if subscription.pattern.match != "exact":
        details["topic"] = entry.topic
    publisher = draft.publisher
    if publisher is not None and publisher.disclose:
        details["publisher"] = publisher.session
        details["publisher_authid"] = publisher.authid
        details["publisher_authrole"] = publisher.authrole
    if recovered:
        details["recovered"] = True
    message = [EVENT, subscription.id, entry.publication, details]
    if draft.kwargs:
        message += [draft.args or [], draft.kwargs]
    elif draft.args:
        message.append(draft.args)
    return message


def receiver_filter(publisher: Publisher) -> Callable[[Session], bool] | None:
    """None for the common case (no lists); else a predicate per receiving session."""
    audience = publisher.audience
    if audience is None:
        return None
    exclude = set(audience.exclude)
    exclude_authid = set(audience.exclude_authid)
    exclude_authrole = set(audience.exclude_authrole)
    eligible = None if audience.eligible is None else set(audience.eligible)
    eligible_authid = None if audience.eligible_authid is None else set(audience.eligible_authid)
    eligible_authrole = (
        None if audience.eligible_authrole is None else set(audience.eligible_authrole)
    )

    def accepts(session: Session) -> bool:
        return not (
            session.id in exclude
            or session.authid in exclude_authid
            or session.authrole in exclude_authrole
            or (eligible is not None and session.id not in eligible)
            or (eligible_authid is not None and session.authid not in eligible_authid)
            or (eligible_authrole is not None and session.authrole not in eligible_authrole)
        )

    return accepts


def in_audience(session: Session, entry: Entry) -> bool:
    """Whether the publisher's black/white lists let `session` see `entry`."""
    publisher = entry.draft.publisher
    accepts = None if publisher is None else receiver_filter(publisher)
    return accepts is None or accepts(session)


def may_receive(session: Session, entry: Entry) -> bool:
    """Whether a replayed `entry` may go to `session`: the publisher's lists and exclusion
    apply as they did live (a resumed client does not get back what it published itself)."""
    publisher = entry.draft.publisher
    excluded = publisher is not None and (
        publisher.exclude_me
        and (
            publisher.session == session.id
            or (publisher.client_id is not None and publisher.client_id == session.client_id)
        )
    )
    return not excluded and in_audience(session, entry)


def publisher_of(session: Session, msg: wamp.Publish, options: dict[str, Any]) -> Publisher:
    """Who published `msg`, and to whom it may go (its options' lists and exclusion)."""
    lists = (
        msg.exclude,
        msg.exclude_authid,
        msg.exclude_authrole,
        msg.eligible,
        msg.eligible_authid,
        msg.eligible_authrole,
    )
    audience = None
    if any(x is not None for x in lists):
        audience = Audience(
            tuple(msg.exclude or ()),
            tuple(msg.exclude_authid or ()),
            tuple(msg.exclude_authrole or ()),
            *(None if x is None else tuple(x) for x in lists[3:]),
        )
    return Publisher(
        session.id,
        session.authid,
        session.authrole,
        session.client_id,
        disclose=bool(options.get("disclose_me")),
        exclude_me=msg.exclude_me is not False,
        audience=audience,
    )
