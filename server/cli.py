"""The `rekisteri` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from server.settings import Settings

Handler = Callable[[argparse.Namespace, Settings], int]
log = logging.getLogger("rekisteri.serve")


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """One process (uvicorn.run), or with --workers N a parent that binds the socket and N
    workers that share it (server/serving.py). SIGTERM stops it gracefully either way."""
    import os

    workers = getattr(args, "workers", None) or settings.web_concurrency
    if workers > 1:
        from server import serving

        if settings.database_url is None:
            # Started once here, not raced by every worker.
            from server.db.engine import resolve_database_url

            print(f"Using the embedded PostgreSQL with its data in {settings.embedded_data_dir}")
            os.environ["DATABASE_URL"] = resolve_database_url(settings)
        log.info("serving on %s with %d workers", _address(args.host, args.port), workers)
        return serving.serve(
            WORKER_APP,
            host=args.host,
            port=args.port,
            workers=workers,
            shutdown_timeout=settings.shutdown_timeout_seconds,
            log_level=settings.log_level,
        )
    from server.serving import run_one

    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)  # one process: its metrics in memory
    from server.app import create_app

    if settings.database_url is None:
        print(f"Using the embedded PostgreSQL with its data in {settings.embedded_data_dir}")
    log.info("serving on %s", _address(args.host, args.port))
    return run_one(create_app(settings), **uvicorn_options(args, settings))


# What every worker of `serve --workers N` runs (called without arguments).
WORKER_APP = "server.cli:worker_app"


def worker_app() -> Any:
    """The application of one worker: the settings from the environment, as the parent's."""
    from server.app import create_app
    from server.observability.logging import configure

    settings = Settings()
    configure(settings)
    return create_app(settings)


def _address(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def uvicorn_options(args: argparse.Namespace, settings: Settings | None = None) -> dict[str, Any]:
    """uvicorn's options (server/serving.py): its own proxy-header handling is off, whatever
    FORWARDED_ALLOW_IPS says; the app reads X-Forwarded-For itself, only from
    TRUSTED_PROXIES (server/identity/client_address.py)."""
    from server.serving import uvicorn_settings

    settings = settings or Settings()
    return uvicorn_settings(
        host=args.host,
        port=args.port,
        shutdown_timeout=settings.shutdown_timeout_seconds,
        log_level=settings.log_level,
    )


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
    from server.cli_progress import for_terminal
    from server.seed.command import run_seed

    return run_seed(
        settings,
        customers=args.customers,
        seed=args.seed,
        demo=args.demo,
        today=datetime.now(UTC).date(),
        if_empty=args.if_empty,
        progress=for_terminal(),
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


def cmd_schema_changes(args: argparse.Namespace, settings: Settings) -> int:
    """Breaking and dangerous changes since the last release, against CHANGELOG.md."""
    from server.graphql.schema_changes import check_project, report

    result = check_project()
    print("\n".join(report(result)))
    return 0 if result.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rekisteri", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes sharing one socket (default: WEB_CONCURRENCY, else 1)",
    )
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
    changes = schema.add_parser(
        "changes", help="breaking changes since the last release, checked against CHANGELOG.md"
    )
    changes.set_defaults(func=cmd_schema_changes)

    from server.authz.cli import register as register_policy

    register_policy(commands)
    _register_optional(commands)
    return parser


def _register_optional(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from server.audit.cli import register as register_audit
    from server.identity.cli import register as register_identity
    from server.imports.cli import register as register_imports
    from server.operations.cli import register as register_operations
    from server.privacy.cli import register as register_privacy
    from server.rights.cli import register as register_rights

    register_identity(commands)
    register_audit(commands)
    register_rights(commands)
    register_privacy(commands)
    register_operations(commands)
    register_imports(commands)


def main(argv: Sequence[str] | None = None) -> int:
    from server.observability.logging import configure

    args = build_parser().parse_args(argv)
    settings = Settings()
    # The service logs routine authentication events; commands print their own results.
    configure(settings, routine_events=args.command == "serve")
    handler: Handler = args.func
    return handler(args, settings)


if __name__ == "__main__":
    raise SystemExit(main())
