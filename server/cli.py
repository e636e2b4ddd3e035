"""The `rekisteri` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from server import logsafety
from server.settings import Settings

Handler = Callable[[argparse.Namespace, Settings], int]


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from server.app import create_app

    if settings.database_url is None:
        print(f"Using the embedded PostgreSQL with its data in {settings.embedded_data_dir}")
    uvicorn.run(create_app(settings), **uvicorn_options(args))
    return 0


def uvicorn_options(args: argparse.Namespace) -> dict[str, Any]:
    """uvicorn's own proxy-header handling is off, whatever FORWARDED_ALLOW_IPS says: the
    app reads X-Forwarded-For itself, only from TRUSTED_PROXIES (server/identity/
    client_address.py), so a client cannot choose its address however the service runs."""
    return {
        "host": args.host,
        "port": args.port,
        "log_level": "info",
        "proxy_headers": False,
        "forwarded_allow_ips": "",
        "server_header": False,
    }


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from server.cli_support import owner_engine
    from server.db.migrate import current_revision, upgrade

    async def run() -> str | None:
        async with owner_engine(settings) as engine:
            async with engine.begin() as conn:
                await upgrade(conn, args.revision)
            async with engine.connect() as conn:
                return await current_revision(conn)

    revision = asyncio.run(run())
    print(f"database at revision {revision}")
    return 0


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    from server.seed.command import run_seed

    return run_seed(
        settings,
        customers=args.customers,
        seed=args.seed,
        demo=args.demo,
        today=datetime.now(UTC).date(),
        if_empty=args.if_empty,
    )


def cmd_schema_export(args: argparse.Namespace, settings: Settings) -> int:
    from server.schema import export_sdl
    from server.settings import PROJECT_ROOT

    target = PROJECT_ROOT / "schema.graphql"
    sdl = export_sdl()
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != sdl:
            print(
                "schema.graphql differs from the code: run `rekisteri schema export`",
                file=sys.stderr,
            )
            return 1
        print("schema.graphql is up to date")
        return 0
    target.write_text(sdl, encoding="utf-8")
    print(f"wrote {target.name}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rekisteri", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)

    db = commands.add_parser("db", help="database migrations").add_subparsers(
        dest="db_command", required=True
    )
    upgrade = db.add_parser("upgrade", help="migrate to the newest revision")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(func=cmd_db_upgrade)

    seed = commands.add_parser("seed", help="fill an empty database with synthetic data")
    seed.add_argument("--customers", type=int, default=200)
    seed.add_argument("--seed", type=int, default=1)
    seed.add_argument("--demo", action="store_true", help="also create one demo user per role")
    seed.add_argument("--if-empty", action="store_true", help="do nothing if data exists")
    seed.set_defaults(func=cmd_seed)

    schema = commands.add_parser("schema", help="the GraphQL schema").add_subparsers(
        dest="schema_command", required=True
    )
    export = schema.add_parser("export", help="write schema.graphql from the code")
    export.add_argument("--check", action="store_true", help="fail if schema.graphql drifted")
    export.set_defaults(func=cmd_schema_export)

    from server.authz.cli import register as register_policy

    register_policy(commands)
    _register_optional(commands)
    return parser


def _register_optional(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from server.audit.cli import register as register_audit
    from server.identity.cli import register as register_identity
    from server.rights.cli import register as register_rights

    register_identity(commands)
    register_audit(commands)
    register_rights(commands)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logsafety.install()
    args = build_parser().parse_args(argv)
    settings = Settings()
    handler: Handler = args.func
    return handler(args, settings)


if __name__ == "__main__":
    raise SystemExit(main())
