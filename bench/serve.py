"""Serve an ASGI app factory with several uvicorn workers, with TCP_NODELAY on every connection.

    .venv/bin/python bench/serve.py server.app:create_app --port 8766 --workers 2

The supervisor is the service's own (server/serving.py, what `rekisteri serve --workers N`
runs): the parent binds the socket as IPPROTO_TCP, so asyncio turns Nagle's algorithm off
on every accepted connection, and hands it to uvicorn's multi-process supervisor. Plain
`uvicorn --workers N` binds it with protocol number 0 and leaves Nagle on: a response
written in two parts (headers, then body) then waits for the client's delayed ACK on every
kept-alive connection, about 40 ms per small response on loopback. As in the service, the
workers' Prometheus metrics go to a fresh PROMETHEUS_MULTIPROC_DIR per start, and each
GraphQL request writes its log line.
"""

from __future__ import annotations

import argparse
import sys

from server.serving import serve


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("app", help="module:factory, called without arguments")
    parser.add_argument("--app-dir", default="", help="put this folder first on sys.path")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.app_dir:
        sys.path.insert(0, args.app_dir)
    return serve(
        args.app,
        host=args.host,
        port=args.port,
        workers=args.workers,
        shutdown_timeout=5,
        log_level="warning",
    )


if __name__ == "__main__":
    raise SystemExit(main())
