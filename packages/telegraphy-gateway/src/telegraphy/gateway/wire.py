"""WAMP messages to and from WebSocket frames, per serializer.

Each serializer has one shared `Codec`. A message serialized through it is cached on the
message, so an EVENT fanned out to many subscribers is serialized and framed once per codec.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cbor2
import msgpack
import txaio

# autobahn's serializer module binds txaio's clock at import: choose the framework first.
txaio.use_twisted()

from autobahn.wamp import message as wamp  # noqa: E402
from autobahn.wamp.exception import InvalidUriError, ProtocolError  # noqa: E402
from autobahn.wamp.serializer import (  # noqa: E402
    CBORSerializer,
    JsonSerializer,
    MsgPackSerializer,
)
from autobahn.websocket.protocol import PreparedMessage  # noqa: E402

Raw = list[Any]

# Requests whose URI (always their fourth element) autobahn rejects while parsing. The spec
# answers a bad URI in a request with ERROR wamp.error.invalid_uri, not ABORT, so the parse
# lets it through and the router refuses it.
_REQUEST_URI_FIELDS: dict[type[wamp.Message], str] = {
    wamp.Publish: "topic",
    wamp.Subscribe: "topic",
    wamp.Call: "procedure",
    wamp.Register: "procedure",
}


class Codec:
    """One serializer plus WebSocket framing of unmasked server-to-client frames."""

    def __init__(self, subprotocol: str, serializer: Any) -> None:
        self.subprotocol = subprotocol
        self.name = serializer.SERIALIZER_ID
        self.binary: bool = serializer._serializer.BINARY
        self._objects = serializer._serializer
        self._types: dict[int, type[wamp.Message]] = serializer.MESSAGE_TYPE_MAP

    def frame(self, message: wamp.Message) -> bytes:
        """The complete WebSocket frame carrying `message`."""
        payload = message.serialize(self._objects)
        return PreparedMessage(payload, self.binary, False, True).payloadHybi

    def frame_raw(self, message: Raw) -> bytes:
        """The complete WebSocket frame carrying a message given as its raw list."""
        payload = self._objects.serialize(message)
        return PreparedMessage(payload, self.binary, False, True).payloadHybi

    def event_frames(self, message: Raw) -> EventFrames:
        """`message` (an EVENT) serialized once, for frames that differ only by their
        subscription id (its second element)."""
        return EventFrames(self, message)

    def serialize(self, message: Raw) -> bytes:
        payload: bytes = self._objects.serialize(message)
        return payload

    def frame_payload(self, payload: bytes) -> bytes:
        return PreparedMessage(payload, self.binary, False, True).payloadHybi

    def decode(self, payload: bytes, binary: bool) -> list[tuple[wamp.Message, Raw]]:
        """Parse one WebSocket message into WAMP messages, each with its raw list.

        The raw list is kept because autobahn's parser drops options the WAMP spec defines
        but autobahn no longer sends (`disclose_me`, `disclose_caller`).
        Raises `ProtocolError` for anything that is not a well-formed WAMP message.
        """
        if binary != self.binary:
            kind = "binary" if binary else "text"
            raise ProtocolError(f"{kind} WebSocket message on a {self.subprotocol} connection")
        try:
            raws = self._objects.unserialize(payload)
        except Exception as e:  # each serializer library raises its own errors
            raise ProtocolError(f"invalid {self.name} serialization: {e}") from e
        if self.name in _UNDEFINED_MARKS and _UNDEFINED_MARKS[self.name] in payload:
            raws = [_without_undefined(raw) for raw in raws]
        return [(self._parse(raw), raw) for raw in raws]

    def _parse(self, raw: Any) -> wamp.Message:
        if not isinstance(raw, list) or not raw:
            raise ProtocolError("a WAMP message must be a non-empty array")
        kind = raw[0]
        klass = self._types.get(kind) if type(kind) is int else None
        if klass is None:
            raise ProtocolError(f"unknown WAMP message type {kind!r}")
        try:
            message = _checked(klass, raw)
        except InvalidUriError as e:
            field = _REQUEST_URI_FIELDS.get(klass)
            if field is None or len(raw) < 4 or not isinstance(raw[3], str):
                raise ProtocolError(f"malformed {klass.__name__.upper()}: {e}") from e
            # Check every other field with a valid stand-in, then put the peer's URI back.
            message = _checked(klass, [*raw[:3], "invalid", *raw[4:]])
            setattr(message, field, raw[3])
        if getattr(message, "payload", None) is not None:
            # Binary Arguments are autobahn's payload transparency, which this router does not
            # offer: the spec's Arguments is a list.
            name = klass.__name__.upper()
            raise ProtocolError(f"malformed {name}: Arguments must be a list, not bytes")
        return message


# JavaScript's MessagePack and CBOR encoders (wampy.js uses msgpackr and cbor-x) write
# `undefined` for an option a client leaves unset, as in SUBSCRIBE {"match": undefined}, which
# autobahn's parser refuses. Read it as JSON.stringify does: no key in a map, null in an array.
# The byte marks let the usual message skip the walk.
_UNDEFINED_MARKS = {"msgpack": b"\xd4\x00\x00", "cbor": b"\xf7"}
_MSGPACK_UNDEFINED = msgpack.ExtType(0, b"\x00")


# How each serializer writes the start of [36, 0, ...] (an EVENT with subscription id 0): the
# bytes before the id, and the id's own bytes. The id is spliced in between.
_EVENT_HEADS: dict[str, tuple[int, bytes]] = {
    "json": (len(b"[36,"), b"0"),
    "msgpack": (2, b"\x00"),  # fixarray, 36 as a positive fixint, then 0
    "cbor": (3, b"\x00"),  # array, 36 as 0x18 0x24, then 0
}
_INTEGERS: dict[str, Callable[[int], bytes]] = {
    "json": lambda n: str(n).encode(),
    "msgpack": lambda n: msgpack.packb(n),
    "cbor": lambda n: cbor2.dumps(n),
}


class EventFrames:
    """An EVENT serialized once, and framed for each subscription with its id spliced into
    the serialized bytes: subscriptions that differ only by id (filters that let the same
    publication through) cost one serialization, not one each."""

    __slots__ = ("_codec", "_head", "_integer", "_message", "_tail")

    def __init__(self, codec: Codec, message: Raw) -> None:
        self._codec = codec
        self._message = message
        payload = codec.serialize([message[0], 0, *message[2:]])
        split, zero = _EVENT_HEADS.get(codec.name, (0, b""))
        if zero and payload[split : split + len(zero)] == zero:
            self._head, self._tail = payload[:split], payload[split + len(zero) :]
            self._integer: Callable[[int], bytes] | None = _INTEGERS[codec.name]
        else:  # a serializer writing otherwise: serialize each frame whole
            self._head = self._tail = b""
            self._integer = None

    def frame(self, subscription_id: int) -> bytes:
        if self._integer is None:
            return self._codec.frame_raw([self._message[0], subscription_id, *self._message[2:]])
        payload = self._head + self._integer(subscription_id) + self._tail
        return self._codec.frame_payload(payload)


def _is_undefined(value: Any) -> bool:
    return value is cbor2.undefined or (
        isinstance(value, msgpack.ExtType) and value == _MSGPACK_UNDEFINED
    )


def _without_undefined(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_undefined(v) for k, v in value.items() if not _is_undefined(v)}
    if isinstance(value, list):
        return [None if _is_undefined(v) else _without_undefined(v) for v in value]
    return value


def _checked(klass: type[wamp.Message], raw: Raw) -> wamp.Message:
    """`klass.parse(raw)`, raising `ProtocolError` (or `InvalidUriError`) for a malformed one."""
    try:
        message: wamp.Message = klass.parse(raw)
        return message
    except (ProtocolError, InvalidUriError):
        raise
    except Exception as e:  # autobahn asserts on some malformed fields
        raise ProtocolError(f"malformed {klass.__name__.upper()}: {e!r}") from e


CODECS: dict[str, Codec] = {
    codec.subprotocol: codec
    for codec in (
        Codec("wamp.2.json", JsonSerializer()),
        Codec("wamp.2.msgpack", MsgPackSerializer()),
        Codec("wamp.2.cbor", CBORSerializer()),
    )
}
"""Supported WebSocket subprotocols, in the order the gateway prefers them."""


MAX_DEPTH = 100
"""Deepest nesting of lists and maps an application payload may have."""
_INT_RANGE = range(-(2**63), 2**64)


class NotPortable(ValueError):
    """An application payload that some serializer cannot encode; the message says where."""


def check_portable(value: Any, where: str = "arguments", depth: int = 0) -> None:
    """Refuse what not every serializer (JSON, MessagePack, CBOR) can carry to subscribers:
    strings that are not Unicode text (lone surrogates), integers outside 64 bits, NaN and
    infinities, map keys other than strings, types of one serializer only, nesting deeper
    than `MAX_DEPTH`. Checked once per publication, before anyone receives it."""
    if value is None or isinstance(value, bool | bytes):
        return
    if isinstance(value, str):
        _check_text(value, where)
    elif isinstance(value, int):
        if value not in _INT_RANGE:
            raise NotPortable(f"{where} is an integer outside 64 bits")
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise NotPortable(f"{where} is {value}, which JSON cannot carry")
    elif isinstance(value, list | tuple | dict):
        if depth >= MAX_DEPTH:
            raise NotPortable(f"{where} is nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise NotPortable(f"{where} has a map key that is not a string: {key!r}")
                _check_text(key, f"{where} key")
                check_portable(item, f"{where}.{key}", depth + 1)
        else:
            for index, item in enumerate(value):
                check_portable(item, f"{where}[{index}]", depth + 1)
    else:
        raise NotPortable(
            f"{where} is a {type(value).__name__}, which not every serializer carries"
        )


def _check_text(text: str, where: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise NotPortable(f"{where} is not Unicode text (a lone surrogate)") from None
