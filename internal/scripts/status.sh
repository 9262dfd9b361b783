#!/bin/sh
# commandcenter-status NAME PROBE COMMAND...
# Prints, as KEY=VALUE lines, what the project's service NAME is doing,
# whichever engine session runs it: running (whether an instance holds its
# lock), its record as record_* (see commandcenter-lock), its last failed
# exit as exit_*, postgres's last initdb as initdb_*, and with a store its
# last restore, archived WAL, base backup and lease (restored_*, archive_*,
# backup_*, lease_*) and what of its WAL is only in this engine (wal_*),
# and, while it runs,
# the verdict of PROBE COMMAND, run by commandcenter-probe (HOST set to its
# address): healthy (true or false) and message (the probe's first line).
# It only reads, and exits 0 whatever it finds.
set -eu
. commandcenter-lock
name=$1
shift
running=false
if cc_running "$name"; then
	running=true
fi
echo "running=$running"
if [ -e "$cc_dir/$name.run" ]; then sed 's/^/record_/' "$cc_dir/$name.run"; fi
if [ -e "$cc_dir/$name.exit" ]; then sed 's/^/exit_/' "$cc_dir/$name.exit"; fi
for record in initdb restored archive backup lease; do
	if [ -e "$cc_dir/$name.$record" ]; then sed "s/^/${record}_/" "$cc_dir/$name.$record"; fi
done
# With postgres's data volume (a store; COMMANDCENTER_WAL_SPOOL is where
# pgBackRest's asynchronous archive-push acknowledges what the store took):
# the segments PostgreSQL marked .ready that the store has not acknowledged,
# and the data directory's state (in production: running, or killed).
if [ -n "${COMMANDCENTER_WAL_SPOOL:-}" ] && [ -s "$PGDATA/PG_VERSION" ]; then
	unarchived=
	for ready in "$PGDATA"/pg_wal/archive_status/*.ready; do
		[ -e "$ready" ] || continue
		segment=${ready##*/}
		segment=${segment%.ready}
		[ -e "$COMMANDCENTER_WAL_SPOOL/$segment.ok" ] || unarchived="$unarchived $segment"
	done
	echo "wal_unarchived=${unarchived# }"
	echo "wal_cluster_state=$(pg_controldata "$PGDATA" 2>/dev/null | sed -n 's/^Database cluster state: *//p')"
fi
[ "$running" = true ] || exit 0
if out=$(commandcenter-probe "$name" "$@" 2>&1); then
	echo "healthy=true"
else
	echo "healthy=false"
fi
echo "message=$(printf '%s\n' "$out" | grep -v '^[[:space:]]*$' | head -n 1 | cut -c 1-200)"
