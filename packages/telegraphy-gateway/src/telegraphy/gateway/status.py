"""`telegraphy-gateway status`: what a running gateway says of itself on /health and /ready,
and its busiest topics and rates from two reads of /stats, printed for a person, with an exit
status for scripts (0 ready, 1 not ready, 2 unreachable)."""

from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
import time
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
    parser.add_argument(
        "--interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="measure rates over this long (1); 0 prints topics without rates",
    )
    parser.add_argument(
        "--topics", type=int, default=10, metavar="N", help="print the N busiest topics (10)"
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("TELEGRAPHY_METRICS_TOKEN"),
        help="the [metrics] token, for /stats from an address not in [metrics] allow "
        "(default: TELEGRAPHY_METRICS_TOKEN)",
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
    print(_activity(base, args, context), file=out)
    return READY if ready["ready"] else NOT_READY


def _activity(base: str, args: argparse.Namespace, context: ssl.SSLContext | None) -> str:
    """Topics and rates, or why /stats could not be read (which changes no exit status)."""
    url = f"{base}/stats?topics={max(0, args.topics)}"
    headers = {} if args.token is None else {"Authorization": f"Bearer {args.token}"}
    try:
        first = _stats(url, headers, args.timeout, context)
        if args.interval <= 0:
            return describe_activity(first, None)
        time.sleep(args.interval)  # the interval the rates are measured over
        return describe_activity(_stats(url, headers, args.timeout, context), first)
    except Unreachable as e:
        return f"stats:    {e}"


def describe_activity(now: dict[str, Any], before: dict[str, Any] | None) -> str:
    """Rates between two /stats answers (`before` None: none), then the busiest topics."""
    lines = [f"topics:   {now['subscriptions']} subscriptions"]
    if before is not None:
        seconds = max(now["time"] - before["time"], 1e-6)
        received = sum(now["publications_received"].values())
        received -= sum(before["publications_received"].values())
        delivered = now["events_delivered"] - before["events_delivered"]
        lines.insert(
            0,
            f"rates:    {received / seconds:.1f} publications/s, "
            f"{delivered / seconds:.1f} deliveries/s (over {seconds:.1f} s)",
        )
    width = max((len(t["uri"]) for t in now["topics"]), default=0)
    for topic in now["topics"]:
        kind = topic["match"] + (", filtered" if topic["filtered"] else "")
        lines.append(
            f"  {topic['uri']:<{width}}  {kind:<16} {topic['sessions']:>6} sessions "
            f"{topic['publications']:>9} publications {topic['events_delivered']:>10} delivered"
        )
    return "\n".join(lines)


def _stats(
    url: str, headers: dict[str, str], timeout: float, context: ssl.SSLContext | None
) -> dict[str, Any]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:
            data = json.loads(answer.read())
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            raise Unreachable(
                f"not allowed ({e.code}): give --token, or ask from an address in [metrics] allow"
            ) from None
        raise Unreachable(f"/stats answered {e.code}") from None
    except (OSError, ValueError) as e:
        raise Unreachable(f"/stats: {getattr(e, 'reason', None) or e}") from None
    if not isinstance(data, dict) or "topics" not in data:
        raise Unreachable("/stats did not answer as a Telegraphy gateway does")
    return data


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
