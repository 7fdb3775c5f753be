FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src

# Copy only what the wheel is built from, so local state (.venv, .neo4j jars) stays out.
COPY pyproject.toml README.md ./
COPY src ./src
COPY api ./api
COPY cypher ./cypher
COPY docs/model.md ./docs/model.md
RUN pip install . \
    && useradd --system --create-home servicegraph \
    && mkdir /data && chown servicegraph /data

# Run unprivileged from a writable directory: the default embedded store is a file in the cwd.
USER servicegraph
WORKDIR /data
EXPOSE 8000
# Bind all interfaces: inside a container, loopback is unreachable from the published port.
CMD ["servicegraph", "serve", "--host", "0.0.0.0"]
