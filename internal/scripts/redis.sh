#!/bin/sh
# commandcenter-redis [SERVER ARG...]
# Runs redis-server with its configuration on stdin ("redis-server -"):
# requirepass is read from the file named by REDIS_PASSWORD_FILE when it is
# set, so the password is never in argv, the environment or a file on disk.
set -eu
requirepass=
if [ -n "${REDIS_PASSWORD_FILE:-}" ]; then
	requirepass="requirepass \"$(sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' "$REDIS_PASSWORD_FILE")\""
fi
exec redis-server - "$@" <<EOF
dir /data
protected-mode no
$requirepass
EOF
