#!/bin/sh
# commandcenter-pgbackrest ARG...
# Runs pgbackrest ARG... with the store's keys, and the encryption key when
# one was given, in pgBackRest's own variables, for that process only: they
# are read from the secret files, never put in the container's definition,
# an argument or a file. PostgreSQL's archive_command and restore_command
# run through it too (cmd in pgbackrest.conf).
#
# A command that writes to the store (archive-push, backup, expire,
# stanza-*) run by a serving copy that is fenced (see cc_fenced in
# commandcenter-store) fails at once, and one that the fence overtakes is
# killed: a copy that could not renew its lease writes nothing more.
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
# fenced_run ARG...: pgbackrest ARG..., as long as this copy is not fenced.
fenced_run() {
	if cc_fenced; then
		echo "ERROR: $cc_fence_reason" >&2
		return 75
	fi
	pgbackrest "$@" &
	writer=$!
	(while kill -0 "$writer" 2>/dev/null; do
		if cc_fenced; then kill -s KILL "$writer"; fi
		sleep 1
	done) &
	watcher=$!
	cc_wait "$writer"
	kill "$watcher" 2>/dev/null || :
	return "$cc_status"
}

case " $* " in
*" archive-push "*) ;;
*" archive-push:async "* | *" backup "* | *" expire "* | *" stanza-"*)
	if fenced_run "$@"; then exit 0; else exit $?; fi ;;
*) exec pgbackrest "$@" ;;
esac

record=$cc_dir/postgres.archive
wal=
for arg; do wal=$arg; done
wal=${wal##*/}
if fenced_run "$@" 2>"$cc_tmp/push"; then
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
