"""Checking a web app's setup (`manage.py telegraphy_check`, `flask telegraphy check`): the
secret, the gateway's address, a signed round trip to its ingress, and the public patterns,
each with what to fix when it fails."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ._app_settings import AppSettings
from ._errors import TokenError
from ._signing import sign_request
from ._tokens import read_token

MIN_SECRET_LENGTH = 16
_COMPONENT = r"[^\s.#]+"
_EXACT = re.compile(rf"^{_COMPONENT}(\.{_COMPONENT})*$")
_PREFIX = re.compile(rf"^({_COMPONENT}\.)*({_COMPONENT})?$")


@dataclass(frozen=True)
class SetupFinding:
    """One check's outcome: `problem` None when it passed, else what to fix."""

    check: str
    detail: str
    problem: str | None = None


def check_setup(
    app: AppSettings, public: Iterable[Any], where: str, timeout: float = 5.0
) -> list[SetupFinding]:
    """Every check in order; the gateway's are skipped once it does not answer. `where`
    names a setting from its key, e.g. "settings.TELEGRAPHY['{}']"."""
    findings = [check_secret(app.core.secret, where), check_public(list(public))]
    health = check_health(app.core.gateway_url, where, timeout)
    findings.append(health)
    if health.problem is None:
        findings.append(check_round_trip(app.core.secret, app.core.gateway_url, timeout))
    return findings


def check_secret(secret: object, where: str) -> SetupFinding:
    if isinstance(secret, str) and len(secret) >= MIN_SECRET_LENGTH:
        return SetupFinding("secret", f"set ({len(secret)} characters)")
    return SetupFinding(
        "secret",
        "missing or too short",
        f"set {where.format('SECRET')} (or TELEGRAPHY_SECRET) to a string of at least "
        f"{MIN_SECRET_LENGTH} characters, the same as the gateway's; make one with "
        "python -c 'import secrets; print(secrets.token_urlsafe())'",
    )


def check_public(patterns: list[Any]) -> SetupFinding:
    for entry in patterns:
        uri, match = _pattern(entry)
        valid = _EXACT if match == "exact" else _PREFIX if match == "prefix" else None
        if not isinstance(uri, str) or valid is None or not valid.match(uri):
            return SetupFinding(
                "public patterns",
                f"{entry!r} is not a valid topic pattern",
                "a public pattern is a topic such as telegraphy.event.app.Model, or "
                '{"uri": "telegraphy.channel.news.", "match": "prefix"}: fix the gateway\'s '
                "public list, or the public event or channel's name",
            )
    return SetupFinding("public patterns", f"{len(patterns)} valid")


def _pattern(entry: Any) -> tuple[object, object]:
    if isinstance(entry, str):
        return entry, "exact"
    if isinstance(entry, dict):
        return entry.get("uri"), entry.get("match", "exact")
    return None, None


def check_health(gateway_url: str, where: str, timeout: float) -> SetupFinding:
    url = f"{gateway_url.rstrip('/')}/health"
    fix = (
        f"start the gateway, or set {where.format('GATEWAY_URL')} to the address where it runs "
        "(its http:// address, e.g. http://127.0.0.1:9000)"
    )
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            json.load(response)
    except urllib.error.HTTPError as e:
        return SetupFinding("gateway", f"{url} answered HTTP {e.code}", f"is it the gateway? {fix}")
    except OSError as e:
        return SetupFinding("gateway", f"{url} does not answer ({_reason(e)})", fix)
    except ValueError:
        return SetupFinding("gateway", f"{url} answers, but not with the gateway's JSON", fix)
    return SetupFinding("gateway", f"{url} answers")


def check_round_trip(secret: str, gateway_url: str, timeout: float) -> SetupFinding:
    """POST /ingress/token signed with `secret`: the gateway accepts the signature, and signs
    the token it mints with the same secret. Nothing is published."""
    path = f"{urlsplit(gateway_url).path.rstrip('/')}/ingress/token"
    body = json.dumps({"user": None, "ttl": 1}).encode()
    headers = {"Content-Type": "application/json", **sign_request(secret, "POST", path, body)}
    request = urllib.request.Request(
        f"{gateway_url.rstrip('/')}/ingress/token", body, headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            token = json.load(response)["token"]
        read_token(secret, token)
    except urllib.error.HTTPError as e:
        return _refused(e.code, _error_of(e))
    except (OSError, ValueError, KeyError, TypeError) as e:
        return SetupFinding("signed request", f"no answer from the ingress ({_reason(e)})", "retry")
    except TokenError:
        return SetupFinding(
            "signed request",
            "the gateway's token is not signed with this secret",
            "give the web app and the gateway the same secret",
        )
    return SetupFinding("signed request", "POST /ingress/token accepted with this secret")


_FIXES = {
    "bad_signature": "the web app's secret differs from the gateway's: make them equal",
    "stale_timestamp": "this host's clock and the gateway's differ: sync them (NTP)",
    "ingress_disabled": "the gateway has no secret, so its ingress is off: give it the web "
    "app's secret (TELEGRAPHY_SECRET, or `secret` in its configuration)",
}


def _refused(status: int, error: dict[str, Any]) -> SetupFinding:
    code = str(error.get("error", ""))
    message = str(error.get("message", ""))
    fix = _FIXES.get(code, f"see the gateway's answer: {message}")
    return SetupFinding("signed request", f"refused with HTTP {status} {code}: {message}", fix)


def _error_of(error: urllib.error.HTTPError) -> dict[str, Any]:
    try:
        parsed = json.load(error)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    return str(reason if reason is not None else error)
