#!/bin/sh
# commandcenter-redis [SERVER ARG...]
# Runs redis-server with its configuration on stdin ("redis-server -"):
# requirepass is read from the file named by REDIS_PASSWORD_FILE, generated
# there first when COMMANDCENTER_GENERATE_REDIS_PASSWORD is set, so the
# password is never in argv, the environment or a configuration file.
# Every write goes to the append-only file in /data, synced every second,
# so a kill of the container loses at most about a second of writes.
set -eu
if [ -n "${COMMANDCENTER_GENERATE_REDIS_PASSWORD:-}" ]; then
	commandcenter-secret "$REDIS_PASSWORD_FILE" 0444
fi
requirepass=
if [ -n "${REDIS_PASSWORD_FILE:-}" ]; then
	requirepass="requirepass \"$(sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' "$REDIS_PASSWORD_FILE")\""
fi
exec redis-server - "$@" <<CONF
dir /data
appendonly yes
appendfsync everysec
protected-mode no
$requirepass
CONF
