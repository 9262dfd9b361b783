#!/bin/sh
# commandcenter-backend-env COMMAND [ARG...]
# Exports DATABASE_URL, REDIS_URL and SECRET_KEY, built from the secret
# files named by DB_PASSWORD_FILE, REDIS_PASSWORD_FILE and SECRET_KEY_FILE,
# then runs COMMAND. Passwords are URL-encoded; nothing is printed.
# Celery's CELERY_BROKER_URL and CELERY_RESULT_BACKEND, which apps such as
# CommandCenter read, are REDIS_URL too (the app's env file may set others).
set -eu
if [ -n "${COMMANDCENTER_GENERATE_SECRET_KEY:-}" ]; then
	commandcenter-secret "$SECRET_KEY_FILE" 0400
fi
DATABASE_URL=$(commandcenter-url postgres "$DB_HOST" "$DB_PORT" "$DB_PASSWORD_FILE")
REDIS_URL=$(commandcenter-url redis "$REDIS_HOST" "$REDIS_PORT" "${REDIS_PASSWORD_FILE:-}")
SECRET_KEY=$(cat "$SECRET_KEY_FILE")
CELERY_BROKER_URL=$REDIS_URL
CELERY_RESULT_BACKEND=$REDIS_URL
export DATABASE_URL REDIS_URL SECRET_KEY CELERY_BROKER_URL CELERY_RESULT_BACKEND
exec "$@"
