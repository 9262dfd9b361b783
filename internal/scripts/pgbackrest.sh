#!/bin/sh
# commandcenter-pgbackrest ARG...
# Runs pgbackrest ARG... with the store's keys, and the encryption key when
# one was given, in pgBackRest's own variables, for that process only: they
# are read from the secret files, never put in the container's definition,
# an argument or a file. PostgreSQL's archive_command and restore_command
# run through it too (cmd in pgbackrest.conf).
#
# For archive-push, it notes in $COMMANDCENTER_LOG_DIR/postgres.archive the
# last archived WAL and when, or, while archiving fails, since when and the
# last error, for Status. Archiving is asynchronous (pgbackrest.conf), but
# archive-push returns 0 only once the segment is in the store: its
# background process acknowledges each segment the store took.
set -eu
# The project's lock (fd 9, which the server's processes inherit from the
# launcher) is not pgBackRest's to hold: the asynchronous archive-push and
# archive-get run on in a session of their own, beyond the server's group.
exec 9>&-
. commandcenter-lock
. commandcenter-store
cc_store_keys
PGBACKREST_REPO1_S3_KEY=$cc_key_id
PGBACKREST_REPO1_S3_KEY_SECRET=$cc_key_secret
export PGBACKREST_REPO1_S3_KEY PGBACKREST_REPO1_S3_KEY_SECRET
if [ -n "$cc_key_token" ]; then
	PGBACKREST_REPO1_S3_TOKEN=$cc_key_token
	export PGBACKREST_REPO1_S3_TOKEN
fi
if [ -n "${COMMANDCENTER_STORE_KEY_FILE:-}" ]; then
	PGBACKREST_REPO1_CIPHER_PASS=$(cat "$COMMANDCENTER_STORE_KEY_FILE")
	export PGBACKREST_REPO1_CIPHER_PASS
fi
case " $* " in
*" archive-push "*) ;;
*) exec pgbackrest "$@" ;;
esac

record=$cc_dir/postgres.archive
wal=
for arg; do wal=$arg; done
wal=${wal##*/}
if pgbackrest "$@" 2>"$cc_tmp/push"; then
	cc_write "$record" "wal=$wal" "at=$(cc_now)" "epoch=$(date +%s)" "failing_since=" "failures=0" "error="
	exit 0
else
	status=$?
fi
cat "$cc_tmp/push" >&2
since=$(cc_field "$record" failing_since)
failures=$(cc_field "$record" failures)
cc_write "$record" "wal=$(cc_field "$record" wal)" "at=$(cc_field "$record" at)" "epoch=$(cc_field "$record" epoch)" \
	"failing_since=${since:-$(cc_now)}" "failures=$((${failures:-0} + 1))" \
	"error=$(cc_last_error "$cc_tmp/push")"
exit "$status"
