#!/bin/sh
# commandcenter-backend-env COMMAND [ARG...]
# Exports DATABASE_URL, REDIS_URL and SECRET_KEY, built from the secret
# files named by DB_PASSWORD_FILE, REDIS_PASSWORD_FILE and SECRET_KEY_FILE,
# then runs COMMAND. Passwords are URL-encoded; nothing is printed.
set -eu
if [ -n "${COMMANDCENTER_GENERATE_SECRET_KEY:-}" ]; then
	commandcenter-secret "$SECRET_KEY_FILE" 0400
fi
DATABASE_URL=$(commandcenter-url postgres "$DB_HOST" "$DB_PORT" "$DB_PASSWORD_FILE")
REDIS_URL=$(commandcenter-url redis "$REDIS_HOST" "$REDIS_PORT" "${REDIS_PASSWORD_FILE:-}")
SECRET_KEY=$(cat "$SECRET_KEY_FILE")
export DATABASE_URL REDIS_URL SECRET_KEY
exec "$@"
