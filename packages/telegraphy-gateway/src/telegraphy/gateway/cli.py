"""`telegraphy-gateway`: run the gateway from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .config import load_config
from .errors import ConfigError
from .run import CannotListen, serve


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="telegraphy-gateway",
        description="Telegraphy's WAMP v2 router: real-time events for web applications.",
    )
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file")
    parser.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port to listen on (default 9000)")
    parser.add_argument("--realm", help="WAMP realm to serve (default telegraphy)")
    parser.add_argument(
        "--log-level", choices=["debug", "info", "warn", "error", "critical"], help="log level"
    )
    parser.add_argument("--log-format", choices=["text", "json"], help="log line format")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = load_config(args.config).with_overrides(
            host=args.host,
            port=args.port,
            realm=args.realm,
            log_level=args.log_level,
            log_format=args.log_format,
        )
    except ConfigError as e:
        print(f"telegraphy-gateway: configuration error: {e}", file=sys.stderr)
        return 2
    try:
        serve(config)
    except ConfigError as e:  # found at start: the engine's file cannot be opened
        print(f"telegraphy-gateway: configuration error: {e}", file=sys.stderr)
        return 2
    except CannotListen as e:
        print(f"telegraphy-gateway: cannot listen: {e}", file=sys.stderr)
        return 1
    return 0
