"""How the SQLite engine writes what it keeps: publications as MessagePack (bytes values
survive, and nothing is ever unpickled), client records as JSON."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgpack

from telegraphy.core import Grants

from ..router.uri import Pattern
from .base import Audience, ClientRecord, Draft, Position, Publisher


def pack(draft: Draft) -> bytes:
    """A draft's payload and publisher as MessagePack (bytes values survive; no pickle)."""
    publisher = draft.publisher
    packed: bytes = msgpack.packb(
        [draft.args, draft.kwargs, None if publisher is None else _publisher_fields(publisher)],
        use_bin_type=True,
    )
    return packed


def _publisher_fields(publisher: Publisher) -> list[Any]:
    audience = publisher.audience
    return [
        publisher.session,
        publisher.authid,
        publisher.authrole,
        publisher.client_id,
        publisher.disclose,
        publisher.exclude_me,
        None
        if audience is None
        else [
            audience.exclude,
            audience.exclude_authid,
            audience.exclude_authrole,
            audience.eligible,
            audience.eligible_authid,
            audience.eligible_authrole,
        ],
    ]


def unpack(topic: str, event_id: str | None, payload: bytes) -> Draft:
    args, kwargs, fields = msgpack.unpackb(payload, raw=False, strict_map_key=False)
    publisher = None
    if fields is not None:
        session, authid, authrole, client_id, disclose, exclude_me, audience = fields
        lists = None if audience is None else Audience(*(_tuple(v) for v in audience))  # type: ignore[arg-type]
        publisher = Publisher(session, authid, authrole, client_id, disclose, exclude_me, lists)
    return Draft(topic, args, kwargs, publisher, event_id)


def _tuple(value: Iterable[Any] | None) -> tuple[Any, ...] | None:
    return None if value is None else tuple(value)


def record_to_json(record: ClientRecord) -> dict[str, Any]:
    # A subscription's own filter and the grants' filters are written only when there are
    # some: records without filters read the same as before filters existed.
    grants = record.grants
    lists: list[Any] = [
        list(grants.subscribe_events),
        list(grants.subscribe_channels),
        list(grants.publish_channels),
    ]
    return {
        "client_id": record.client_id,
        "user": record.user,
        "grants": [*lists, dict(grants.filters)] if grants.filters else lists,
        "expires_at": record.expires_at,
        "subscriptions": [_pattern(p) for p in record.subscriptions],
        "persistent": [
            [p.uri, p.match, {t: [pos.offset, pos.epoch] for t, pos in positions.items()}]
            + ([] if p.filter is None else [p.filter])
            for p, positions in record.persistent.items()
        ],
        "left_at": record.left_at,
        **({} if record.info is None else {"info": record.info}),
        **({"presence": record.presence} if record.presence else {}),
    }


def _pattern(pattern: Pattern) -> list[str]:
    fields = [pattern.uri, pattern.match]
    return fields if pattern.filter is None else [*fields, pattern.filter]


def record_from_json(data: dict[str, Any]) -> ClientRecord:
    events, channels, publish, *filters = data["grants"]
    return ClientRecord(
        client_id=data["client_id"],
        user=data["user"],
        grants=Grants(tuple(events), tuple(channels), tuple(publish), *filters),
        expires_at=data["expires_at"],
        subscriptions=[Pattern(*fields) for fields in data["subscriptions"]],
        persistent={
            Pattern(uri, match, *rest): {t: Position(o, e) for t, (o, e) in positions.items()}
            for uri, match, positions, *rest in data["persistent"]
        },
        left_at=data["left_at"],
        info=data.get("info"),
        presence=list(data.get("presence", [])),
    )
