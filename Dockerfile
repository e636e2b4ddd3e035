# Multi-stage build: dependencies are built in one stage, the runtime image holds only the
# virtual environment and the code, and runs as an unprivileged user.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN python -m venv /opt/venv
COPY requirements.lock pyproject.toml README.md ./
COPY server ./server
# The lock is a constraints file here: it fixes every version, and only what the service
# needs is installed (not the development tools it also pins).
RUN /opt/venv/bin/pip install --upgrade pip \
    && /opt/venv/bin/pip install --constraint requirements.lock .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    REKISTERI_HOME=/app \
    TRUSTED_PROXIES="" \
    FORWARDED_ALLOW_IPS=""
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system rekisteri && useradd --system --gid rekisteri --home /app rekisteri
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --chown=root:root server ./server
COPY --chown=root:root migrations ./migrations
COPY --chown=root:root policies ./policies
COPY --chown=root:root schema.graphql pyproject.toml ./
USER rekisteri
EXPOSE 8000
# DATABASE_URL (owner role, for migrations), SECRET_KEY and AUDIT_SIGNING_KEY must be given.
# No forwarded header is believed by default: set TRUSTED_PROXIES to the proxy's address or
# network. `rekisteri serve` turns uvicorn's own proxy headers off; FORWARDED_ALLOW_IPS=""
# keeps them off if the command is replaced by a bare `uvicorn` (use --no-proxy-headers too).
# WEB_CONCURRENCY worker processes share one socket; SIGTERM stops them gracefully
# (SHUTDOWN_TIMEOUT_SECONDS). /metrics answers a scraper outside the container only with
# METRICS_TOKEN or METRICS_ALLOWED_ADDRESSES set.
CMD ["sh", "-c", "rekisteri db upgrade && exec rekisteri serve --host 0.0.0.0 --port 8000 --workers \"${WEB_CONCURRENCY:-2}\""]
