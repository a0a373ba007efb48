"""The stand-in's one command line: ``python -m codat_platform_c.testing [options]``, which
``python -m codat_platform_c serve-stand-in [options]`` runs too (same options, same exit codes)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import List, Optional

from .server import StandInServer

EXIT_OK, EXIT_USAGE = 0, 2


def serve(host: str = "127.0.0.1", port: int = 8080, tls: bool = False,
          auth_header: Optional[str] = None, rate_limit: int = 1000,
          http2: bool = False, retired_connection_management: bool = False) -> None:
    """Run a stand-in server in the foreground until Ctrl-C (or SIGTERM), printing its URL."""
    done = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
    with StandInServer(tls=tls, auth_header=auth_header, rate_limit=rate_limit,
                       host=host, port=port, http2=http2,
                       retired_connection_management=retired_connection_management) as srv:
        print(f"Codat stand-in server listening on {srv.url}"
              f"{' (HTTP/2 and HTTP/1.1)' if http2 else ''}", flush=True)
        if srv.ca_path:
            print(f"CA certificate: {srv.ca_path}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass


def build_parser(prog: str = "python -m codat_platform_c.testing") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run the stand-in Codat Platform API server (codat_platform_c.testing.StandInServer) in "
                    "the foreground until Ctrl-C. Magic company ids: status-NNN, slow-MS, silence, "
                    "action-NAME. docs/standin.md describes it all.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--tls", action="store_true",
                        help="serve HTTPS with a self-made test CA (its path is printed)")
    parser.add_argument("--http2", action="store_true",
                        help="with --tls: also offer HTTP/2 by ALPN (needs the h2 package: pip install h2)")
    parser.add_argument("--auth-header", default=None,
                        help='require exactly this Authorization header, e.g. "Basic abc"')
    parser.add_argument("--rate-limit", type=int, default=1000,
                        help="the daily request quota the X-Rate-Limit-* headers count down (default 1000)")
    parser.add_argument("--retired-connection-management", action="store_true",
                        help="answer GET /companies/{id}/connectionManagement/accessToken with the 404 "
                             "Codat sends since it retired that endpoint (2026-10-12)")
    return parser


def main(argv: Optional[List[str]] = None, prog: str = "python -m codat_platform_c.testing") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if args.http2 and not args.tls:
        parser.error("--http2 needs --tls")
    try:
        serve(args.host, args.port, args.tls, args.auth_header, args.rate_limit, args.http2,
              args.retired_connection_management)
    except (OSError, OverflowError, ValueError, ImportError, RuntimeError) as e:
        # a port in use or out of range, a host that does not resolve, h2 missing for --http2, no way to
        # make a certificate: the user's input or machine, so one line, not a traceback
        print(f"error: cannot serve on {args.host}:{args.port}: {e}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK
