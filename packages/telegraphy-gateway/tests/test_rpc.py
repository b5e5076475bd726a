"""Remote procedure calls through a real gateway: basic calls, errors, shared and pattern-based
registrations, caller identification, progressive results and canceling."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallOptions, CallResult, RegisterOptions
from twisted.internet import defer

import wamp_peers
from conftest import BACKEND_ID
from gateway_harness import Client, Inbox, left, within
from raw_wamp import CALL, CANCEL, ERROR, INVOCATION, REGISTER, REGISTERED, RESULT, YIELD
from wamp_peers import Peers

gateway = wamp_peers.gateway  # one gateway process for the whole module
peers = wamp_peers.peers


async def call_error(session: Client, procedure: str, *args: Any) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await session.call(procedure, *args)
    return caught.value


async def register_error(session: Client, procedure: str, **options: Any) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await session.register(lambda: None, procedure, options=RegisterOptions(**options))
    return caught.value


class Pending:
    """A callee whose invocations stay open until the test answers them."""

    def __init__(self) -> None:
        self.started = Inbox()
        self.interrupted = Inbox()
        self.calls: list[defer.Deferred[Any]] = []

    def __call__(self, *args: Any) -> defer.Deferred[Any]:
        def interrupt(answer: defer.Deferred[Any]) -> None:
            self.interrupted(*args)
            answer.errback(ApplicationError("app.error.interrupted", *args))

        answer: defer.Deferred[Any] = defer.Deferred(interrupt)
        self.calls.append(answer)
        self.started(*args)
        return answer


@pytest_twisted.ensureDeferred
async def test_args_and_kwargs_travel_both_ways_over_json_and_msgpack(peers: Peers) -> None:
    callee = await peers.backend("msgpack")

    def add(*numbers: int, label: str) -> CallResult:
        return CallResult(sum(numbers), label=label.upper(), count=len(numbers))

    await callee.register(add, "app.rpc.add")
    for serializer in ("json", "msgpack"):
        caller = await peers.backend(serializer)
        result = await caller.call("app.rpc.add", 1, 2, 3, label="sum")
        assert result.results == (6,) and result.kwresults == {"label": "SUM", "count": 3}
    result = await caller.call("app.rpc.add", label="none")
    assert result.results == (0,) and result.kwresults == {"label": "NONE", "count": 0}


@pytest_twisted.ensureDeferred
async def test_application_error_reaches_the_caller_with_uri_and_args(peers: Peers) -> None:
    callee, caller = await peers.backend(), await peers.backend("msgpack")

    def reserve(sku: str) -> None:
        raise ApplicationError("app.error.out_of_stock", sku, available=0)

    await callee.register(reserve, "app.rpc.reserve")
    error = await call_error(caller, "app.rpc.reserve", "sku-1")
    assert error.error == "app.error.out_of_stock"
    assert error.args == ("sku-1",) and error.kwargs == {"available": 0}


@pytest_twisted.ensureDeferred
async def test_unknown_procedure_and_second_registration_are_refused(peers: Peers) -> None:
    first, second = await peers.backend(), await peers.backend()

    assert (await call_error(first, "app.rpc.nobody")).error == "wamp.error.no_such_procedure"
    await first.register(lambda: "first", "app.rpc.once")
    for session in (first, second):
        error = await register_error(session, "app.rpc.once")
        assert error.error == "wamp.error.procedure_already_exists"
    error = await register_error(second, "wamp.session.count")
    assert error.error == "wamp.error.not_authorized"
    assert await second.call("app.rpc.once") == "first"


async def shared(peers: Peers, procedure: str, invoke: str, count: int) -> list[Client]:
    """`count` callees sharing `procedure`, each answering with its position."""
    callees = [await peers.backend() for _ in range(count)]
    for position, callee in enumerate(callees):
        await callee.register(
            lambda p=position: p, procedure, options=RegisterOptions(invoke=invoke)
        )
    return callees


@pytest_twisted.ensureDeferred
async def test_shared_registrations_follow_their_invocation_policy(peers: Peers) -> None:
    caller = await peers.backend()
    await shared(peers, "app.rpc.rr", "roundrobin", 3)
    answers = [await caller.call("app.rpc.rr") for _ in range(6)]
    assert answers == [0, 1, 2, 0, 1, 2]  # in registration order

    first = await shared(peers, "app.rpc.first", "first", 2)
    await shared(peers, "app.rpc.last", "last", 2)
    assert {await caller.call("app.rpc.first") for _ in range(3)} == {0}
    assert {await caller.call("app.rpc.last") for _ in range(3)} == {1}
    first[0].leave()
    await left(first[0])
    assert await caller.call("app.rpc.first") == 1

    await shared(peers, "app.rpc.random", "random", 2)
    assert {await caller.call("app.rpc.random") for _ in range(40)} == {0, 1}


@pytest_twisted.ensureDeferred
async def test_shared_registration_with_another_policy_is_refused(peers: Peers) -> None:
    owner, other = await peers.backend(), await peers.backend()
    await owner.register(lambda: 1, "app.rpc.pool", options=RegisterOptions(invoke="roundrobin"))
    for invoke in ("single", "first", "random"):
        error = await register_error(other, "app.rpc.pool", invoke=invoke)
        assert error.error == "wamp.error.procedure_exists_with_different_invocation_policy"


@pytest_twisted.ensureDeferred
async def test_pattern_registrations_prefer_exact_then_longest_prefix(peers: Peers) -> None:
    callee, caller = await peers.backend(), await peers.backend()

    def answering(name: str):  # type: ignore[no-untyped-def]
        return lambda details: (name, details.procedure)

    for name, uri, match in [
        ("exact", "app.pat.exact", "exact"),
        ("short", "app.pat", "prefix"),
        ("long", "app.pat.long", "prefix"),
        ("wildcard", "app..delete", "wildcard"),
    ]:
        options = RegisterOptions(match=match, details_arg="details")
        await callee.register(answering(name), uri, options=options)

    assert await caller.call("app.pat.exact") == ["exact", "app.pat.exact"]
    assert await caller.call("app.pat.long.x") == ["long", "app.pat.long.x"]
    assert await caller.call("app.pat.exactly") == ["short", "app.pat.exactly"]
    assert await caller.call("app.user.delete") == ["wildcard", "app.user.delete"]
    error = await call_error(caller, "app.user.update")
    assert error.error == "wamp.error.no_such_procedure"


@pytest_twisted.ensureDeferred
async def test_caller_is_disclosed_when_caller_or_callee_asks(peers: Peers) -> None:
    # autobahn 26 sends neither CALL.Options.disclose_me nor REGISTER.Options.disclose_caller,
    # so the side that asks is a hand-written JSON session.
    callee, raw = await peers.backend(), await peers.raw()
    await callee.register(
        lambda details: [details.caller, details.caller_authid, details.caller_authrole],
        "app.rpc.whoami",
        options=RegisterOptions(details_arg="details"),
    )
    answer = await raw.request(CALL, 1, {"disclose_me": True}, "app.rpc.whoami")
    assert answer == [RESULT, 1, {}, [[raw.id, BACKEND_ID, "backend"]]]
    answer = await raw.request(CALL, 2, {}, "app.rpc.whoami")
    assert answer == [RESULT, 2, {}, [[None, None, None]]]

    registered = await raw.request(REGISTER, 3, {"disclose_caller": True}, "app.rpc.raw")
    caller = await peers.backend()
    result = caller.call("app.rpc.raw")
    invocation = await raw.receive()
    assert invocation[:3] == [INVOCATION, 1, registered[2]]
    assert invocation[3] == {"caller": caller.session_id, "caller_authid": BACKEND_ID,
                             "caller_authrole": "backend"}  # fmt: skip
    raw.send(YIELD, invocation[1], {}, ["ok"])
    assert await within(result) == "ok"


@pytest_twisted.ensureDeferred
async def test_progressive_results_reach_the_caller_before_the_final_one(peers: Peers) -> None:
    callee, caller = await peers.backend(), await peers.backend("msgpack")

    def count(upto: int, details: Any) -> str:
        for i in range(1, upto + 1):
            if details.progress:
                details.progress(i, of=upto)
        return "done"

    await callee.register(count, "app.rpc.count", options=RegisterOptions(details_arg="details"))
    progress = Inbox()
    result = await caller.call("app.rpc.count", 3, options=CallOptions(on_progress=progress))
    assert result == "done"
    assert [await progress.next() for _ in range(3)] == [((i,), {"of": 3}) for i in (1, 2, 3)]
    assert await caller.call("app.rpc.count", 2) == "done"
    assert progress.pending == 0


@pytest_twisted.ensureDeferred
async def test_canceled_call_interrupts_the_callee(peers: Peers) -> None:
    callee, caller = await peers.backend(), await peers.backend()
    pending = Pending()
    await callee.register(pending, "app.rpc.slow")

    call = caller.call("app.rpc.slow", "a")
    await pending.started.next()
    call.cancel()
    assert await pending.interrupted.next() == (("a",), {})
    with pytest.raises(defer.CancelledError):
        await call
    # The session stays usable after the cancel.
    second = caller.call("app.rpc.slow", "b")
    await pending.started.next()
    pending.calls[-1].callback("answered")
    assert await within(second) == "answered"


@pytest_twisted.ensureDeferred
async def test_cancel_modes(peers: Peers) -> None:
    callee, raw = await peers.backend(), await peers.raw()
    pending = Pending()
    await callee.register(pending, "app.rpc.modes")

    # skip: the caller gets ERROR at once, the callee is not told and its late answer is dropped.
    raw.send(CALL, 1, {}, "app.rpc.modes", ["skip"])
    await pending.started.next()
    assert (await raw.request(CANCEL, 1, {"mode": "skip"}))[:5] == [
        ERROR, CALL, 1, {}, "wamp.error.canceled"]  # fmt: skip
    pending.calls[-1].callback("late")

    # killnowait: ERROR at once, and the callee is interrupted.
    raw.send(CALL, 2, {}, "app.rpc.modes", ["killnowait"])
    await pending.started.next()
    assert (await raw.request(CANCEL, 2, {"mode": "killnowait"}))[:5] == [
        ERROR, CALL, 2, {}, "wamp.error.canceled"]  # fmt: skip
    assert await pending.interrupted.next() == (("killnowait",), {})

    # kill: the callee is interrupted and the caller gets the callee's own answer to that.
    raw.send(CALL, 3, {}, "app.rpc.modes", ["kill"])
    await pending.started.next()
    raw.send(CANCEL, 3, {"mode": "kill"})
    assert await pending.interrupted.next() == (("kill",), {})
    assert await raw.receive() == [ERROR, CALL, 3, {}, "app.error.interrupted", ["kill"]]

    # Nothing else was sent for the three calls: the next message answers the next call.
    raw.send(CALL, 4, {}, "app.rpc.modes", ["last"])
    await pending.started.next()
    pending.calls[-1].callback("fine")
    assert await raw.receive() == [RESULT, 4, {}, ["fine"]]


@pytest_twisted.ensureDeferred
async def test_cancel_is_skip_for_a_callee_that_cannot_be_interrupted(peers: Peers) -> None:
    callee, caller = await peers.raw(roles={"callee": {}}), await peers.raw()
    registered = await callee.request(REGISTER, 1, {}, "app.rpc.uninterruptible")

    for request in (1, 2):
        caller.send(CALL, request, {}, "app.rpc.uninterruptible")
        invocation = await callee.receive()
        assert invocation[:3] == [INVOCATION, request, registered[2]]
    answer = await caller.request(CANCEL, 1, {"mode": "kill"})
    assert answer[:5] == [ERROR, CALL, 1, {}, "wamp.error.canceled"]
    callee.send(YIELD, 1, {}, ["too late"])
    callee.send(YIELD, 2, {}, ["in time"])
    # No INTERRUPT reached the callee, and the caller got only the answer to its second call.
    assert await caller.receive() == [RESULT, 2, {}, ["in time"]]
    callee.send(REGISTER, 2, {}, "app.rpc.next")
    assert (await callee.receive())[:2] == [REGISTERED, 2]


@pytest_twisted.ensureDeferred
async def test_callee_leaving_mid_call_cancels_the_call(peers: Peers) -> None:
    callee, caller = await peers.backend(), await peers.backend()
    pending = Pending()
    await callee.register(pending, "app.rpc.leaving")

    call = caller.call("app.rpc.leaving")
    await pending.started.next()
    callee.leave()
    with pytest.raises(ApplicationError) as caught:
        await within(call)
    assert caught.value.error == "wamp.error.canceled"
    error = await call_error(caller, "app.rpc.leaving")
    assert error.error == "wamp.error.no_such_procedure"


@pytest_twisted.ensureDeferred
async def test_late_result_for_a_caller_that_left_is_dropped(peers: Peers) -> None:
    callee, caller = await peers.backend(), await peers.backend()
    pending = Pending()
    await callee.register(pending, "app.rpc.orphan")

    orphaned = caller.call("app.rpc.orphan", 1)
    orphaned.addErrback(lambda failure: None)  # the caller is gone; so is its answer
    await pending.started.next()
    caller.leave()
    await left(caller)
    pending.calls[-1].callback("nobody listens")

    other = await peers.backend("msgpack")
    answer = other.call("app.rpc.orphan", 2)
    await pending.started.next()
    pending.calls[-1].callback("still working")
    assert await within(answer) == "still working"
    assert callee.is_attached()
