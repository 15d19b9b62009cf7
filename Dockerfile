# One image for the API, the workers and the `goals` command line.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir "uv==0.13.9"
WORKDIR /app

COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

COPY domain ./domain
COPY infra ./infra
COPY services ./services
RUN uv sync --frozen --no-dev

RUN useradd --system --uid 10001 goals
USER goals
# Servers are named by URLs here: none is ever looked for on this host, or run embedded.
ENV PATH="/app/.venv/bin:$PATH" API_HOST=0.0.0.0 LOCAL_SERVERS=off
EXPOSE 8000
CMD ["goals", "serve"]
