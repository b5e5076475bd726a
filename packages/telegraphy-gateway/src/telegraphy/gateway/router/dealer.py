"""The dealer: registrations, and calls routed to callees and their results back to callers."""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

from autobahn.wamp import message as wamp
from twisted.internet.defer import Deferred

from ..errors import (
    Canceled,
    InvalidUri,
    LimitExceeded,
    NoSuchProcedure,
    NoSuchRegistration,
    NotAuthorized,
    ProcedureAlreadyExists,
    ProcedureExistsWithDifferentPolicy,
    ProtocolViolation,
    WampError,
)
from ..wire import Raw
from .ids import SessionScope, unique_id
from .uri import RESERVED, Pattern, validate_pattern, wildcard_matches

if TYPE_CHECKING:
    from ..session import Session
    from .realm import Realm


class Registration:
    __slots__ = ("callees", "created", "disclose_caller", "id", "invoke", "pattern", "turn")

    def __init__(self, registration_id: int, pattern: Pattern, invoke: str) -> None:
        self.id = registration_id
        self.pattern = pattern
        self.invoke = invoke
        self.callees: list[Session] = []
        self.disclose_caller = False
        self.turn = 0
        self.created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def pick(self) -> Session:
        if self.invoke == "roundrobin":
            # In registration order, from the first; `turn` may point past a callee that left.
            callee = self.callees[self.turn % len(self.callees)]
            self.turn = (self.turn + 1) % len(self.callees)
            return callee
        if self.invoke == "random":
            return random.choice(self.callees)
        if self.invoke == "last":
            return self.callees[-1]
        return self.callees[0]


class Invocation:
    """A call in flight: known by (caller, CALL request) and by (callee, INVOCATION request)."""

    __slots__ = ("call_request", "callee", "caller", "receive_progress", "request")

    def __init__(
        self, caller: Session, call_request: int, callee: Session, request: int, progress: bool
    ) -> None:
        self.caller: Session | None = caller
        self.call_request = call_request
        self.callee = callee
        self.request = request
        self.receive_progress = progress


class Dealer:
    def __init__(self, realm: Realm) -> None:
        self._realm = realm
        self._by_id: dict[int, Registration] = {}
        self._by_pattern: dict[str, dict[str, Registration]] = {
            "exact": {},
            "prefix": {},
            "wildcard": {},
        }
        self._of_session: dict[Session, set[Registration]] = {}
        self._by_callee: dict[tuple[Session, int], Invocation] = {}
        self._by_caller: dict[tuple[Session, int], Invocation] = {}
        self._pending_of: dict[Session, int] = {}
        self._request_ids: dict[Session, SessionScope] = {}
        self.accepting = True

    # -- registrations ---------------------------------------------------------------------

    def register(self, callee: Session, msg: wamp.Register, raw: Raw) -> None:
        pattern = Pattern(msg.procedure, msg.match or "exact")
        invoke = msg.invoke or "single"
        if not validate_pattern(pattern.uri, pattern.match):
            raise InvalidUri(f"{pattern.uri!r} is not a valid URI for {pattern.match} match")
        if pattern.uri.startswith(RESERVED):
            raise NotAuthorized("procedures under 'wamp.' are reserved for the router")
        assert callee.permissions is not None
        if not callee.permissions.allows("register", pattern):
            raise NotAuthorized(f"not authorized to register {pattern.uri!r}")
        registration = self._by_pattern[pattern.match].get(pattern.uri)
        if registration is not None:
            if registration.invoke != invoke:
                raise ProcedureExistsWithDifferentPolicy(
                    f"{pattern.uri!r} is registered with invoke={registration.invoke!r}"
                )
            if invoke == "single" or callee in registration.callees:
                raise ProcedureAlreadyExists(f"{pattern.uri!r} is already registered")
        mine = self._of_session.setdefault(callee, set())
        if len(mine) >= self._realm.limits.max_registrations_per_session:
            raise LimitExceeded("too many registrations for this session")
        if registration is None:
            registration = Registration(unique_id(self._by_id), pattern, invoke)
            self._by_id[registration.id] = registration
            self._by_pattern[pattern.match][pattern.uri] = registration
        registration.disclose_caller |= bool(raw[2].get("disclose_caller"))
        registration.callees.append(callee)
        mine.add(registration)
        callee.send(wamp.Registered(msg.request, registration.id))

    def unregister(self, callee: Session, msg: wamp.Unregister, raw: Raw) -> None:
        registration = self._by_id.get(msg.registration)
        if registration is None or callee not in registration.callees:
            raise NoSuchRegistration(f"no registration {msg.registration} in this session")
        self._withdraw(callee, registration)
        self._of_session[callee].discard(registration)
        callee.send(wamp.Unregistered(msg.request))

    def _withdraw(self, callee: Session, registration: Registration) -> None:
        registration.callees.remove(callee)
        if not registration.callees:
            del self._by_id[registration.id]
            del self._by_pattern[registration.pattern.match][registration.pattern.uri]

    def remove_session(self, session: Session) -> None:
        for registration in self._of_session.pop(session, ()):
            self._withdraw(session, registration)
        self._request_ids.pop(session, None)
        self._pending_of.pop(session, None)
        for key in [k for k in self._by_caller if k[0] is session]:
            self._by_caller.pop(key).caller = None
        for key in [k for k in self._by_callee if k[0] is session]:
            self._answer_error(self._by_callee.pop(key), Canceled("the callee left"))

    def match(self, procedure: str) -> Registration | None:
        """Exact match first, then the longest prefix, then the most specific wildcard."""
        registration = self._by_pattern["exact"].get(procedure)
        if registration is not None:
            return registration
        prefixes = [p for p in self._by_pattern["prefix"] if procedure.startswith(p)]
        if prefixes:
            return self._by_pattern["prefix"][max(prefixes, key=len)]
        components = procedure.split(".")
        wildcards = [
            p for p in self._by_pattern["wildcard"] if wildcard_matches(p.split("."), components)
        ]
        if wildcards:
            best = max(wildcards, key=lambda p: [bool(c) for c in p.split(".")])
            return self._by_pattern["wildcard"][best]
        return None

    # -- calls -----------------------------------------------------------------------------

    def call(self, caller: Session, msg: wamp.Call, raw: Raw) -> None:
        procedure = msg.procedure
        if not validate_pattern(procedure, "exact"):
            raise InvalidUri(f"{procedure!r} is not a valid procedure URI")
        if not self.accepting:
            raise Canceled("the gateway is shutting down")
        # The router's own telegraphy.* procedures are open to every session; each checks
        # what its caller may see.
        builtin = self._realm.procedures.procedure(procedure, caller)
        if builtin is None:
            assert caller.permissions is not None
            if not caller.permissions.allows("call", Pattern(procedure)):
                raise NotAuthorized(f"not authorized to call {procedure!r}")
            builtin = self._realm.meta.procedure(procedure)
        if builtin is not None:
            result = builtin(*(msg.args or ()), **(msg.kwargs or {}))
            if isinstance(result, Deferred):
                result.addCallbacks(
                    lambda value: caller.send(wamp.Result(msg.request, args=[value])),
                    lambda failure: caller.refuse_later(msg, failure),
                )
            else:
                caller.send(wamp.Result(msg.request, args=[result]))
            return
        registration = self.match(procedure)
        if registration is None:
            raise NoSuchProcedure(f"no callee registered for {procedure!r}")
        pending = self._pending_of.get(caller, 0)
        if pending >= self._realm.limits.max_pending_calls_per_session:
            raise LimitExceeded("too many calls in flight for this session")
        if (caller, msg.request) in self._by_caller:
            raise ProtocolViolation(f"CALL request {msg.request} is already in flight")
        callee = registration.pick()
        request = self._request_ids.setdefault(callee, SessionScope()).next()
        invocation = Invocation(caller, msg.request, callee, request, bool(msg.receive_progress))
        self._by_callee[(callee, request)] = invocation
        self._by_caller[(caller, msg.request)] = invocation
        self._pending_of[caller] = pending + 1
        disclose = registration.disclose_caller or raw[2].get("disclose_me")
        callee.send(
            wamp.Invocation(
                request,
                registration.id,
                args=msg.args,
                kwargs=msg.kwargs,
                receive_progress=msg.receive_progress or None,
                procedure=procedure if registration.pattern.match != "exact" else None,
                caller=caller.id if disclose else None,
                caller_authid=caller.authid if disclose else None,
                caller_authrole=caller.authrole if disclose else None,
            )
        )

    def yield_(self, callee: Session, msg: wamp.Yield, raw: Raw) -> None:
        invocation = self._by_callee.get((callee, msg.request))
        if invocation is None:
            return  # answered already: canceled, or its caller left
        if msg.progress:
            if invocation.receive_progress and invocation.caller is not None:
                invocation.caller.send(
                    wamp.Result(
                        invocation.call_request, args=msg.args, kwargs=msg.kwargs, progress=True
                    )
                )
            return
        self._finish(invocation)
        if invocation.caller is not None:
            invocation.caller.send(
                wamp.Result(invocation.call_request, args=msg.args, kwargs=msg.kwargs)
            )

    def invocation_error(self, callee: Session, msg: wamp.Error, raw: Raw) -> None:
        if msg.request_type != wamp.Invocation.MESSAGE_TYPE:
            raise ProtocolViolation("a client may send ERROR only in reply to INVOCATION")
        invocation = self._by_callee.get((callee, msg.request))
        if invocation is None:
            return
        self._finish(invocation)
        if invocation.caller is not None:
            invocation.caller.send(
                wamp.Error(
                    wamp.Call.MESSAGE_TYPE,
                    invocation.call_request,
                    msg.error,
                    args=msg.args,
                    kwargs=msg.kwargs,
                )
            )

    def cancel(self, caller: Session, msg: wamp.Cancel, raw: Raw) -> None:
        invocation = self._by_caller.get((caller, msg.request))
        if invocation is None:
            return  # finished already
        mode = msg.mode or "kill"
        callee = invocation.callee
        interrupts = mode != "skip" and callee.wants("callee", "call_canceling")
        if interrupts:
            callee.send(wamp.Interrupt(invocation.request, mode=mode))
        if mode != "kill" or not interrupts:
            self._answer_error(invocation, Canceled("the call was canceled"))

    def _finish(self, invocation: Invocation) -> None:
        self._by_callee.pop((invocation.callee, invocation.request), None)
        caller = invocation.caller
        if caller is not None:
            self._by_caller.pop((caller, invocation.call_request), None)
            self._pending_of[caller] -= 1

    def _answer_error(self, invocation: Invocation, error: WampError) -> None:
        self._finish(invocation)
        if invocation.caller is not None:
            invocation.caller.send(
                wamp.Error(
                    wamp.Call.MESSAGE_TYPE, invocation.call_request, error.uri, args=[str(error)]
                )
            )

    # -- shutdown --------------------------------------------------------------------------

    def in_flight(self) -> int:
        return len(self._by_callee)

    def cancel_all(self, reason: str) -> None:
        for invocation in list(self._by_callee.values()):
            self._answer_error(invocation, Canceled(reason))

    def procedure_details(self) -> dict[str, Any]:
        return {"registrations": len(self._by_id), "in_flight": len(self._by_callee)}
