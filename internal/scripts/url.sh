#!/bin/sh
# commandcenter-url postgres|redis HOST PORT PASSWORD_FILE
# Prints the URL of the project's postgres (role $DB_USER, database
# $DB_NAME) or redis at HOST:PORT, with the password read from
# PASSWORD_FILE, without trailing newlines, and percent-encoded. An empty
# PASSWORD_FILE gives a URL without one. Redis's URL names the user
# "default" (Redis 6 and later), which redis-cli needs to send the
# password. Callers capture the output; it is never printed to a log.
set -eu
password=
if [ -n "$4" ]; then
	password=$(python3 -c 'import sys, urllib.parse
with open(sys.argv[1]) as f:
    sys.stdout.write(urllib.parse.quote(f.read().rstrip("\n"), safe=""))' "$4")
fi
case $1 in
postgres) echo "postgresql://$DB_USER:$password@$2:$3/$DB_NAME" ;;
redis) echo "redis://${password:+default:$password@}$2:$3/0" ;;
*) echo "commandcenter-url: unknown service $1" >&2; exit 2 ;;
esac
