# The producer: `ctc ingest` (exchange websockets → Kinesis) for ECS Fargate
# (infra/modules/producer). Build from the repository root:
#   docker build -f infra/docker/producer.Dockerfile -t ctc-producer:0.1.0 .
# The task definition passes the arguments (ingest --sink kinesis:STREAM ...).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1

WORKDIR /opt/ctc
COPY pyproject.toml README.md ./
COPY ctc ./ctc
# The producer needs no Spark: install ctc without its dependencies, then those the ingest
# path imports.
RUN pip install --no-deps . \
 && pip install "boto3>=1.34,<2" "websockets>=13,<18" "click>=8.1,<9" "pyyaml>=6.0,<7" \
      "jsonschema>=4.20,<5" "sqlglot==30.30.0" "jinja2>=3.1,<4" "numpy>=1.26" \
 && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin ctc

USER 10001
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import ctc.ingest.cli"]
ENTRYPOINT ["ctc"]
CMD ["ingest", "--help"]
