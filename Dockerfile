# The storefront's image: gunicorn serves config.wsgi on port 8000; the same image runs the Celery worker.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so that a code change reuses this layer. The serving set only: the image model runs from its
# ONNX export with ONNX Runtime's CPU build, no torch (exporting and training need requirements-ml.txt).
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are collected at build time with DEBUG off, as they are served at run time (whitenoise's
# hashed manifest). The key only lets the settings load; nothing is signed during the build.
RUN DEBUG=false SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

# An unprivileged user owns only the media folder and var/embeddings (models a shop exports itself, in
# EMBEDDING_MODELS_DIR); named volumes mounted there start with this ownership.
RUN useradd --create-home --uid 10001 app \
    && mkdir -p /app/media /app/var/embeddings \
    && chown app:app /app/media /app/var/embeddings
USER app

EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
