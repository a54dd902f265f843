# One image for every role: `serve` (default), `worker`, `migrate`, `import`, ...
# Build: docker build -t ocop .   Run: see docker-compose.yml

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/ocop
COPY pyproject.toml README.md ./
COPY ocop ./ocop
COPY connectors ./connectors
COPY media ./media
RUN /opt/ocop/bin/pip install --no-cache-dir ".[prod]"

FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 ocop \
    && useradd --system --uid 10001 --gid ocop --home-dir /app --create-home --shell /usr/sbin/nologin ocop
COPY --from=build /opt/ocop /opt/ocop
ENV PATH=/opt/ocop/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    OCOP_VAR_DIR=/app/var \
    OCOP_HOST=0.0.0.0 \
    OCOP_PORT=8000 \
    OCOP_LOG_JSON=true
WORKDIR /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["ocop"]
CMD ["serve"]
