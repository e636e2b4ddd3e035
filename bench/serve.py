"""Serve an ASGI app factory with several uvicorn workers, with TCP_NODELAY on every connection.

    .venv/bin/python bench/serve.py server.app:create_app --port 8766 --workers 2

Why not `uvicorn --workers N`: with more than one worker uvicorn binds the listening socket
itself as `socket.socket(family=...)`, whose protocol number is 0, and asyncio only disables
Nagle's algorithm on connections whose socket says IPPROTO_TCP. A response written in two
parts (headers, then body) then waits for the client's delayed ACK on every kept-alive
connection: about 40 ms per small response on loopback. A single-process `rekisteri serve`
(uvicorn.run with host and port) does not have this problem, so the benchmark's workers must
not have it either. This script binds the socket with IPPROTO_TCP and hands it to uvicorn's
own multi-process supervisor; everything else is uvicorn's.
"""

from __future__ import annotations

import argparse
import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess


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
    config = uvicorn.Config(
        args.app,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.set_inheritable(True)
    try:
        if args.workers > 1:
            Multiprocess(config, sockets=[sock]).run()
        else:
            uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
