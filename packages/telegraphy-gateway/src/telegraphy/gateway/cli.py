"""`telegraphy-gateway`: run the gateway from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__, status
from .config import GatewayConfig, load_config
from .errors import ConfigError
from .run import CannotListen, serve
from .workers import WORKER_FLAG, Supervisor, check_workers, worker_command


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="telegraphy-gateway",
        description="Telegraphy's WAMP v2 router: real-time events for web applications.",
        epilog="telegraphy-gateway status [--port N | --url URL] prints the state of a running "
        "gateway (see telegraphy-gateway status --help). SIGHUP reloads the configuration file.",
    )
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file")
    parser.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port to listen on (default 9000)")
    parser.add_argument("--realm", help="WAMP realm to serve (default telegraphy)")
    parser.add_argument(
        "--log-level", choices=["debug", "info", "warn", "error", "critical"], help="log level"
    )
    parser.add_argument("--log-format", choices=["text", "json"], help="log line format")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help='N processes sharing the port (needs [engine] kind = "redis"; default 1)',
    )
    parser.add_argument(WORKER_FLAG, action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else list(argv)
    if given[:1] == ["status"]:  # a subcommand only there: `--config FILE` runs as it always did
        return status.main(given[1:])
    args = parse_args(argv)
    try:
        config = configuration(args)
        check_workers(config, args.workers)
    except ConfigError as e:
        print(f"telegraphy-gateway: configuration error: {e}", file=sys.stderr)
        return 2
    if args.workers > 1:
        command = worker_command(sys.argv[1:] if argv is None else argv)
        return Supervisor(command, args.workers).run()
    try:
        serve(config, reuse_port=args.worker, reload=lambda: configuration(args))
    except ConfigError as e:  # found at start: the engine's file cannot be opened
        print(f"telegraphy-gateway: configuration error: {e}", file=sys.stderr)
        return 2
    except CannotListen as e:
        print(f"telegraphy-gateway: cannot listen: {e}", file=sys.stderr)
        return 1
    return 0


def configuration(args: argparse.Namespace) -> GatewayConfig:
    """The configuration file (read again on SIGHUP), under the command line's options."""
    return load_config(args.config).with_overrides(
        host=args.host,
        port=args.port,
        realm=args.realm,
        log_level=args.log_level,
        log_format=args.log_format,
    )
