"""WAMP messages to and from WebSocket frames, per serializer.

Each serializer has one shared `Codec`. A message serialized through it is cached on the
message, so an EVENT fanned out to many subscribers is serialized and framed once per codec.
"""

from __future__ import annotations

from typing import Any

import txaio

txaio.use_twisted()  # autobahn's serializers need the framework chosen before use

from autobahn.wamp import message as wamp
from autobahn.wamp.exception import ProtocolError
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer, Serializer
from autobahn.websocket.protocol import PreparedMessage

Raw = list[Any]


class Codec:
    """One serializer plus WebSocket framing of unmasked server-to-client frames."""

    def __init__(self, subprotocol: str, serializer: Serializer) -> None:
        self.subprotocol = subprotocol
        self.name = serializer.SERIALIZER_ID
        self.binary: bool = serializer._serializer.BINARY
        self._objects = serializer._serializer
        self._types: dict[int, type[wamp.Message]] = serializer.MESSAGE_TYPE_MAP

    def frame(self, message: wamp.Message) -> bytes:
        """The complete WebSocket frame carrying `message`."""
        payload = message.serialize(self._objects)
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
        return [(self._parse(raw), raw) for raw in raws]

    def _parse(self, raw: Any) -> wamp.Message:
        if not isinstance(raw, list) or not raw:
            raise ProtocolError("a WAMP message must be a non-empty array")
        kind = raw[0]
        klass = self._types.get(kind) if type(kind) is int else None
        if klass is None:
            raise ProtocolError(f"unknown WAMP message type {kind!r}")
        try:
            return klass.parse(raw)
        except ProtocolError:
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
