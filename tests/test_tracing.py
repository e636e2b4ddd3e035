"""Traces: with OTEL_EXPORTER_OTLP_ENDPOINT set, `rekisteri serve` sends its spans over
OTLP/HTTP to a real receiver (decoded with opentelemetry-proto); without it, nothing of
OpenTelemetry is even imported."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from server.observability import tracing
from tests import factories
from tests.conftest import Users, gql
from tests.processes import STOP_SECONDS, run_to_end, serve, service_env, wait_until_healthy

IDENTITY_CODE = "131052-308T"
LAST_NAME = "Jäätteenmäki-Literal"
FILTERED = f"""
{{ customers(first: 5, filter: {{personalIdentityCode: "{IDENTITY_CODE}"}}) {{
    edges {{ node {{ customerNumber lastName }} }} }} }}
"""
BY_NAME = (
    f'{{ customers(first: 5, filter: {{name: "{LAST_NAME}"}}) {{ edges {{ node {{ id }} }} }} }}'
)
ROLES = "{ me { roles } }"  # a list of scalars: the resolver executor answers


class Receiver:
    """An OTLP/HTTP trace receiver on 127.0.0.1: keeps every span posted to /v1/traces."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver.paths.append(self.path)
                for resource in request.resource_spans:
                    for scope in resource.scope_spans:
                        receiver.spans.extend(scope.spans)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def traced(database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """`rekisteri serve` (one process) with tracing on, and the receiver it sends to."""
    with Receiver() as receiver:
        env = service_env(
            database_url,
            AUDIT_SEALER="false",
            POOL_SIZE="2",
            SHUTDOWN_TIMEOUT_SECONDS="5",
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
            OTEL_BSP_SCHEDULE_DELAY="100",
        )
        with serve(env, tmp_path / "serve.log") as service:
            yield {"process": service.process, "url": service.url, "receiver": receiver}


def attribute_values(span: Span) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in span.attributes:
        value = item.value
        values[item.key] = str(getattr(value, value.WhichOneof("value") or "string_value"))
    for event in span.events:
        for item in event.attributes:
            values[f"event:{item.key}"] = str(item.value)
    return values


async def test_spans_reach_an_otlp_receiver_without_personal_data(
    traced: dict[str, Any], owner: asyncpg.Connection
) -> None:
    process: subprocess.Popen[bytes] = traced["process"]
    url: str = traced["url"]
    receiver: Receiver = traced["receiver"]
    wait_until_healthy(url, process)
    await factories.customer(owner, personal_identity_code=IDENTITY_CODE, last_name=LAST_NAME)
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        users = Users(owner, http)
        token = await users.token("customer_service")
        by_name = await gql(http, BY_NAME, token=token)
        assert by_name.json()["extensions"]["executor"] == "compiled", by_name.text
        assert len(by_name.json()["data"]["customers"]["edges"]) == 1
        found = await gql(http, FILTERED, token=token)
        assert found.status_code == 200  # refused (masked for this role), still traced
        roles = await gql(http, ROLES, token=token)
        assert roles.json()["extensions"]["executor"] == "resolver"
        invalid = await gql(http, '{ customr(id: "K-77881") { id } }', token=token)
        assert invalid.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert (await http.get("/healthz")).status_code == 200

    process.send_signal(signal.SIGTERM)  # the shutdown flushes the exporter's queue
    assert process.wait(timeout=STOP_SECONDS) == 0
    spans = receiver.spans
    names = {span.name for span in spans}
    assert set(receiver.paths) == {"/v1/traces"}
    assert {
        "POST /graphql",
        "POST /auth/token",
        tracing.PARSE,
        tracing.PLAN,
        tracing.SQL,
        tracing.RESOLVE,
        tracing.LOG_WRITE,
        tracing.COMMIT,
    } <= names
    assert "GET /healthz" not in names  # probes are not traced
    assert any(n in {"SELECT", "INSERT", "WITH"} for n in names)  # asyncpg's own spans

    # The steps of one request share its trace, below the server span.
    sql = next(s for s in spans if s.name == tracing.SQL)
    server = next(s for s in spans if s.trace_id == sql.trace_id and s.name == "POST /graphql")
    in_trace = {s.name for s in spans if s.trace_id == sql.trace_id}
    assert {tracing.PARSE, tracing.PLAN} <= in_trace  # the statement commits by itself
    assert tracing.COMMIT not in in_trace
    labels = attribute_values(server)
    assert labels["rekisteri.executor"] == "compiled"
    assert labels["rekisteri.operation_type"] == "query"
    assert labels["rekisteri.outcome"] == "ok"
    assert labels["http.route"] == "/graphql"

    # Nothing personal, no literal of a document, no token, no client address.
    everything = " ".join(
        f"{span.name} {key}={value}"
        for span in spans
        for key, value in attribute_values(span).items()
    )
    for secret in (IDENTITY_CODE, LAST_NAME, "K-77881", token, "customr", "127.0.0.1:"):
        assert secret not in everything, secret
    assert "db.statement" in everything or "db.query.text" in everything
    keys = {key for span in spans for key in attribute_values(span)}
    assert not {"http.target", "http.url", "url.full", "client.address", "net.peer.ip"} & keys
    assert not any("user_agent" in key for key in keys)


def test_without_an_endpoint_nothing_of_opentelemetry_is_loaded() -> None:
    script = (
        "import sys\n"
        "from server.app import create_app\n"
        "from server.observability import tracing\n"
        "from server.settings import Settings\n"
        "app = create_app(Settings(database_url='postgresql://x@127.0.0.1/x'))\n"
        "assert not tracing.enabled()\n"
        "assert tracing.span(tracing.SQL) is tracing.span(tracing.PARSE)\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('opentelemetry'))\n"
        "print(','.join(loaded))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = run_to_end([sys.executable, "-c", script], env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
