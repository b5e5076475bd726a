"""`telegraphy-gateway status`: what a running gateway says of itself on /health and /ready,
printed for a person, with an exit status for scripts (0 ready, 1 not ready, 2 unreachable)."""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any, TextIO

from .config import DEFAULT_PORT

READY, NOT_READY, UNREACHABLE = 0, 1, 2


class Unreachable(Exception):
    """Nothing answered, or what answered is not a Telegraphy gateway."""


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="telegraphy-gateway status",
        description="Print the state of a running gateway. Exit status: 0 ready, 1 not ready, "
        "2 unreachable.",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--port", type=int, metavar="N", help=f"port of a gateway on this machine ({DEFAULT_PORT})"
    )
    where.add_argument("--url", help="the gateway's address, such as https://gw.example.com:9443")
    parser.add_argument(
        "--cafile", metavar="FILE", help="certificates to trust for https (a private CA)"
    )
    parser.add_argument(
        "--timeout", type=float, default=5.0, metavar="SECONDS", help="wait for answers (5)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str], out: TextIO = sys.stdout) -> int:
    args = parse_args(argv)
    base = (args.url or f"http://127.0.0.1:{args.port or DEFAULT_PORT}").rstrip("/")
    try:
        context = None if args.cafile is None else ssl.create_default_context(cafile=args.cafile)
    except (OSError, ssl.SSLError) as e:
        print(f"telegraphy-gateway status: --cafile {args.cafile}: {e}", file=sys.stderr)
        return UNREACHABLE
    try:
        health = _get(f"{base}/health", args.timeout, context)
        ready = _get(f"{base}/ready", args.timeout, context)
        if health.get("status") != "ok" or not isinstance(ready.get("ready"), bool):
            raise Unreachable("it answered, but not as a Telegraphy gateway does")
    except Unreachable as e:
        print(f"unreachable: {base}: {e}", file=out)
        return UNREACHABLE
    print(describe(base, health, ready), file=out)
    return READY if ready["ready"] else NOT_READY


def describe(base: str, health: dict[str, Any], ready: dict[str, Any]) -> str:
    lines = [
        f"telegraphy-gateway {health.get('version', '?')} at {base} (pid {health.get('pid', '?')})",
        f"realm:    {health.get('realm', '?')}",
        f"engine:   {health.get('engine', '?')}",
        f"sessions: {health.get('sessions', '?')}",
    ]
    if ready["ready"]:
        return "\n".join([*lines, "ready:    yes"])
    reasons = [str(r) for r in ready.get("reasons", [])] or ["no reason given"]
    return "\n".join([*lines, "ready:    no", *(f"  - {reason}" for reason in reasons)])


def _get(url: str, timeout: float, context: ssl.SSLContext | None) -> dict[str, Any]:
    """The JSON object at `url`, whatever its status (/ready answers 503 when not ready)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as answer:
            body = answer.read()
    except urllib.error.HTTPError as e:
        body = e.read()
    except (OSError, ValueError) as e:  # refused, timed out, TLS, or not a URL
        raise Unreachable(getattr(e, "reason", None) or e) from None
    try:
        data = json.loads(body)
    except ValueError:
        raise Unreachable(f"{url} did not answer JSON") from None
    if not isinstance(data, dict):
        raise Unreachable(f"{url} did not answer a JSON object")
    return data
