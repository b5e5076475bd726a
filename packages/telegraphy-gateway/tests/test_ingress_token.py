"""POST /ingress/token: a signed request mints a token for a non-Python web app; the token
joins with the grants asked for; bad requests get 422 invalid_request, unsigned ones 401."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

import pytest
import pytest_twisted
from ticket_peers import CHANNELS, EVENTS, SECRET, refusal, ticket_join, token_config

from conftest import module_gateway
from gateway_harness import GatewayProcess
from raw_wamp import ERROR, SUBSCRIBE, SUBSCRIBED
from telegraphy.core import read_token, sign_request

MAX_TTL = 120
gateway = module_gateway(token_config(f"token_max_ttl = {MAX_TTL}"))
PATH = "/ingress/token"


def post(gateway: GatewayProcess, body: Any, secret: str = SECRET) -> tuple[int, Any]:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **sign_request(secret, "POST", PATH, raw)}
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    try:
        connection.request("POST", PATH, body=raw, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest_twisted.ensureDeferred
async def test_a_minted_token_joins_with_the_grants_asked_for(gateway: GatewayProcess) -> None:
    before = int(time.time())
    status, answer = post(
        gateway,
        {
            "user": "42",
            "subscribe": {
                "events": ["shop.Order"],
                "channels": ["chat.*"],
                "filters": {"shop.Order": {"customer__id": 42}},
            },
            "publish": {"channels": ["chat.lobby"]},
            "ttl": 30,
        },
    )

    assert status == 200 and set(answer) == {"token", "expires"}
    claims = read_token(SECRET, answer["token"])
    assert claims.user == "42" and claims.expires_at == answer["expires"]
    assert before + 30 <= answer["expires"] <= time.time() + 30
    assert claims.grants.subscribe_channels == ("chat.*",)
    assert claims.grants.filters == {"shop.Order": {"data__customer__id__exact": 42}}
    session = await ticket_join(gateway.url, answer["token"], authid="42")
    for request, topic in enumerate([f"{EVENTS}.shop.Order", f"{CHANNELS}.chat.room-1"]):
        assert (await session.request(SUBSCRIBE, request + 1, {}, topic))[0] == SUBSCRIBED
    assert (await session.request(SUBSCRIBE, 9, {}, f"{EVENTS}.shop.Invoice"))[0] == ERROR
    await session.leave()
    assert await refusal(gateway.url, answer["token"]) == "token already used"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"user": ""}, "user must be a non-empty string"),
        ({"user": 42}, "user must be a non-empty string"),
        ({"usr": "42"}, "unknown key(s) usr in the body"),
        ({"subscribe": {"event": []}}, "unknown key(s) event in subscribe"),
        ({"subscribe": []}, "subscribe must be an object"),
        ({"subscribe": {"events": "shop.Order"}}, "subscribe.events must be an array"),
        ({"subscribe": {"events": ["no spaces"]}}, "invalid event name 'no spaces'"),
        ({"publish": {"channels": ["a..b"]}}, "invalid event name"),
        ({"ttl": MAX_TTL + 1}, f"ttl must be a number of seconds from 1 to {MAX_TTL}"),
        ({"ttl": 0}, "ttl must be a number of seconds"),
        ({"ttl": True}, "ttl must be a number of seconds"),
        ({"subscribe": {"filters": []}}, "subscribe.filters must be an object"),
        (
            {"subscribe": {"filters": {"shop.Order": {"id__gtt": 1}}}},
            "subscribe.filters: 'id__gtt': unknown lookup 'gtt'",
        ),
    ],
)
def test_a_bad_request_says_what_to_fix(
    gateway: GatewayProcess, body: dict[str, Any], message: str
) -> None:
    status, answer = post(gateway, {"user": "42", **body})
    assert (status, answer["error"]) == (422, "invalid_request"), answer
    assert message in answer["message"], answer


def test_unsigned_and_odd_requests_are_refused(gateway: GatewayProcess) -> None:
    assert post(gateway, {"user": "42"}, secret="not-the-secret-0123456789")[0] == 401
    assert post(gateway, ["not", "an", "object"])[1]["error"] == "not_an_object"
    # Without user, grants and ttl: an anonymous visitor's token for the default minute.
    status, answer = post(gateway, {})
    claims = read_token(SECRET, answer["token"])
    assert status == 200 and claims.user is None
    assert claims.expires_at - claims.issued_at == 60
