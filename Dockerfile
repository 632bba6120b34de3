# One image for every role of the production shape (web, worker, beat, sandbox).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --system --create-home portal
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY . .
RUN DJANGO_SECRET_KEY=build-only-build-only-build-only-build-only-build-only \
    FIELD_ENCRYPTION_KEYS=Wmx0cnZ0S2hQdzNxR0Q0eUFXaUpHV2ZzVzJkN2hQQ0E= \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    python manage.py collectstatic --no-input -v 0 \
 && python manage.py compile_translations
USER portal
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
