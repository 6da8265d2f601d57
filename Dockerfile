# One image for every syncq service (api, worker, beat, flower); compose picks the command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY api ./api
COPY core ./core
COPY jobs ./jobs
COPY syncs ./syncs
COPY workers ./workers
COPY adapters ./adapters
COPY store ./store
COPY core ./core
COPY syncs ./syncs
COPY syncq ./syncq
COPY schedules.py ./
# /metrics: the shared volume the API and the workers write their metrics to (owned by syncq, which
# a new named volume takes over from the image).
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 syncq \
    && mkdir -p /metrics && chown syncq:syncq /metrics
USER syncq
EXPOSE 8000 5555
CMD ["gunicorn", "--config", "python:syncq.gunicorn_conf", "api:create_app()"]
