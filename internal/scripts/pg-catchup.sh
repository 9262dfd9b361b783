#!/bin/sh
# commandcenter-pg-catchup (commandcenter-pg-store catch-up)
# Before this engine's copy of the database is dropped (reset --local-only,
# restore --from-store), pushes to the store the WAL that the copy holds
# and the store lacks: what a killed server wrote after its last archived
# segment, and the segments that a stop left while the store was down. It
# runs the server for a moment, without a TCP port, under the project's
# postgres lock: the server recovers, switches its WAL, archives it and
# stops. A copy with nothing to push (stopped cleanly, everything
# archived), or none, is left alone. Exit 79, naming the segments, when the
# store does not take them, or when another copy wrote the store last while
# this one holds segments the store never took: the caller then drops
# nothing. While it pushes, the lease is renewed as a serving copy's is
# (commandcenter-pg-store renew): a push that the renewal cannot keep
# covered is fenced, and one whose lease another copy took is stopped.
set -eu
. commandcenter-lock
. commandcenter-store
cc_store_keys
project=$COMMANDCENTER_PROJECT
say() { echo "[commandcenter] $*" >&2; }
sql() { psql -h /var/run/postgresql -U "$COMMANDCENTER_PG_SUPERUSER" -d postgres -XqtAc "$1"; }

# holder_is_this_copy: the store's lease names this engine's copy (or none):
# only then is its WAL the store's next.
holder_is_this_copy() {
	copy=$(cat "$cc_dir/postgres.copy" 2>/dev/null) || copy=
	if cc_lease_get; then rc=0; else rc=$?; fi
	[ "$rc" -ne 2 ] || { echo "$cc_error" >&2; exit 2; }
	holder=$(cc_field "$cc_tmp/lease" copy)
	[ -z "$holder" ] || [ "$holder" = "$copy" ]
}

lease_state() { cc_field "$cc_dir/postgres.lease" state; }

# renewing: the lease's renewal from now until this script ends, beside
# the push: the server's archive-push is fenced (COMMANDCENTER_LEASE_FENCE)
# while the lease is not renewed in time, and the renewer stops the server
# ($cc_dir/postgres.server) when another copy takes the lease. A copy that
# never had an id (postgres.copy) never archived to the store: its push
# claims a lease that names no copy, which nobody renews.
renewing() {
	[ -n "$copy" ] || return 0
	cc_start_renewer
	COMMANDCENTER_LEASE_FENCE=1
	export COMMANDCENTER_LEASE_FENCE
}

# push: runs the server until the WAL up to now is archived, 60 s at most,
# or until another copy takes the lease.
push() {
	rm -f "$PGDATA/postmaster.pid"
	archive="archive_command=$(command -v commandcenter-pgbackrest) archive-push %p"
	if ! pg_ctl -D "$PGDATA" -w -t 300 -l "$cc_tmp/server.log" \
		-o "-c listen_addresses='' -c archive_mode=on -c \"$archive\"" start >/dev/null; then
		tail -n 5 "$cc_tmp/server.log" >&2
		echo "project \"$project\": this engine's copy of the database did not start to push its WAL to the store; nothing was dropped" >&2
		exit 79
	fi
	head -n 1 "$PGDATA/postmaster.pid" >"$cc_dir/postgres.server"
	wal=$(sql 'select pg_walfile_name(pg_switch_wal())')
	deadline=$(($(date +%s) + 60))
	until [ "$(sql "select coalesce(last_archived_wal >= '$wal', false) from pg_stat_archiver")" = t ] && [ -z "$(cc_ready_segments)" ]; do
		[ "$(date +%s)" -lt "$deadline" ] && [ "$(lease_state)" != lost ] || break
		sleep 0.5
	done
	# the renewer may have stopped the server already
	if ! pg_ctl -D "$PGDATA" -w -t 120 -m fast stop >/dev/null 2>&1 && pg_ctl -D "$PGDATA" status >/dev/null 2>&1; then
		echo "project \"$project\": this engine's copy of the database did not stop within 120 s after pushing its WAL; nothing was dropped" >&2
		exit 79
	fi
}

cc_lock postgres
# a start that waits for the lock meanwhile waits for the push (cc_lock)
: >"$cc_dir/postgres.pushing"
trap 'cc_stop_renewer; rm -f "$cc_dir/postgres.server" "$cc_dir/postgres.pushing"' EXIT
[ -s "$PGDATA/PG_VERSION" ] || exit 0
state=$(pg_controldata "$PGDATA" | sed -n 's/^Database cluster state: *//p')
case $state in
*recovery*) exit 0 ;; # a restore from the store, which holds its WAL
"shut down") [ -n "$(cc_ready_segments)" ] || exit 0 ;;
esac
if ! holder_is_this_copy; then
	left=$(cc_ready_segments)
	if [ -n "$left" ]; then
		cat >&2 <<EOF
project "$project": this engine's copy of the database holds WAL that the store $COMMANDCENTER_STORE never took, segments $left, and the store was written last by another copy, $holder (host $(cc_field "$cc_tmp/lease" host)): its history goes on from that copy, and cannot take these segments. Dropping this copy would lose the writes in them, so nothing was dropped: this engine's copy is kept as it is, and this command is refused while it holds them.
EOF
		exit 79
	fi
	say "project \"$project\": the store was written last by copy $holder, not by this engine's: this engine's WAL is not pushed"
	exit 0
fi
if cc_lease_put "$copy" held; then rc=0; else rc=$?; fi
[ "$rc" -ne 2 ] || { echo "$cc_error" >&2; exit 2; }
[ "$rc" -eq 0 ] || { echo "project \"$project\": another engine took the store's lease meanwhile; nothing was dropped" >&2; exit 79; }
began=$(cc_uptime_ms)
renewing
push
if [ "$(lease_state)" = lost ]; then
	echo "project \"$project\": another engine took the store's lease while this engine's copy pushed its WAL: the store's history goes on from that copy, so nothing was dropped" >&2
	exit 79
fi
left=$(cc_ready_segments)
if [ -n "$left" ]; then
	cat >&2 <<EOF
project "$project": this engine's copy of the database holds WAL that the store $COMMANDCENTER_STORE did not take: segments $left ($(cc_field "$cc_dir/postgres.archive" error)). Dropping the copy would lose the writes in them, so nothing was dropped, and the store's lease stays with this copy. Bring the store back, then run the command again.
EOF
	exit 79
fi
if [ -n "$copy" ]; then
	cc_stop_renewer
	cc_etag=$(cc_field "$cc_dir/postgres.lease" etag) # the renewer's last write
fi
if cc_lease_put "$copy" released; then cc_lease_record released; fi
say "project \"$project\": WAL up to $wal pushed from this engine's copy to the store, in $(($(cc_uptime_ms) - began)) ms"
