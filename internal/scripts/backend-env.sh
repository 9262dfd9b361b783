#!/bin/sh
# commandcenter-backend-env COMMAND [ARG...]
# Exports DATABASE_URL, REDIS_URL and SECRET_KEY, built from the secret
# files named by DB_PASSWORD_FILE, REDIS_PASSWORD_FILE and SECRET_KEY_FILE,
# then runs COMMAND. Passwords are URL-encoded; nothing is printed.
set -eu
if [ -n "${COMMANDCENTER_GENERATE_SECRET_KEY:-}" ]; then
	commandcenter-secret "$SECRET_KEY_FILE" 0400
fi
# urlencode FILE: the file's content without trailing newlines, percent-encoded.
urlencode() {
	python3 -c 'import sys, urllib.parse
with open(sys.argv[1]) as f:
    sys.stdout.write(urllib.parse.quote(f.read().rstrip("\n"), safe=""))' "$1"
}
DATABASE_URL="postgresql://$DB_USER:$(urlencode "$DB_PASSWORD_FILE")@$DB_HOST:$DB_PORT/$DB_NAME"
REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT/0"
if [ -n "${REDIS_PASSWORD_FILE:-}" ]; then
	REDIS_URL="redis://:$(urlencode "$REDIS_PASSWORD_FILE")@$REDIS_HOST:$REDIS_PORT/0"
fi
SECRET_KEY=$(cat "$SECRET_KEY_FILE")
export DATABASE_URL REDIS_URL SECRET_KEY
exec "$@"
