#!/bin/sh
# commandcenter-pg-store COMMAND [ARG...]
# PostgreSQL with a durable store (--store), in the postgres container, as
# the postgres user. pgBackRest (through commandcenter-pgbackrest) does the
# archiving, the backups and the restores; this script decides when.
#
#   check           the store answers, the bucket exists and the keys work;
#                   exits 2 with what to fix otherwise
#   prepare         under the postgres lock, before the server starts: takes
#                   the project's lease and starts its renewal (renew),
#                   refuses a copy older than the store's, and restores an
#                   empty data directory from the store when it holds the
#                   project
#   renew           renews the lease until the server stops, fences this
#                   copy when it cannot, and stops the server when another
#                   copy took the lease (started by prepare)
#   serve ARG...    runs the server (postgres ARG...) with WAL archiving,
#                   and beside it the agent: the stanza and the base backups;
#                   releases the lease after a clean stop
#   flush           archives the current WAL before a stop (run by
#                   commandcenter-run before it signals the server)
#   range           the store's backups and archive, as pgBackRest's JSON
#   read-archive K  the file K of the archive (a timeline's history)
#   last-commit     the time of the last transaction in the archived WAL
#                   segments named on stdin, newest first (commandcenter-pg-pitr)
#   catch-up        pushes the WAL this engine's copy holds and the store
#                   lacks, before the copy is dropped (commandcenter-pg-catchup)
#   restore-to T B  empties the data directory and notes the point in time
#                   T, which the next start restores from the base backup B
#                   (restore --from-store); refused while the copy holds WAL
#                   that the store never took
#   drop            deletes the project's copy in the store (reset)
#
# Exit 79: the lease or the store's copy forbids this start; 2: the store
# cannot be used as configured.
set -eu
. commandcenter-lock
. commandcenter-store
. commandcenter-pg-pitr
cc_store_keys
project=$COMMANDCENTER_PROJECT
ttl=$COMMANDCENTER_STORE_LEASE_SECONDS
GENERATED_DIR=$COMMANDCENTER_GENERATED_DIR
socket=/var/run/postgresql
say() { echo "[commandcenter] $*" >&2; }
pgb() { commandcenter-pgbackrest "$@"; }
sql() { psql -h "$socket" -U "$COMMANDCENTER_PG_SUPERUSER" -d "$POSTGRES_DB" -XqtAc "$1"; }

local_data() { [ -s "$PGDATA/PG_VERSION" ]; }

# copy_secret NAME FROM TO MODE: FROM/NAME to TO/NAME with MODE, at once
# for readers, when FROM holds it and TO holds another value.
copy_secret() {
	if [ -s "$2/$1" ] && [ -d "$3" ] && ! cmp -s "$2/$1" "$3/$1"; then
		(umask 077 && cp "$2/$1" "$3/$1.tmp")
		chmod "$4" "$3/$1.tmp"
		mv -f "$3/$1.tmp" "$3/$1"
	fi
}

check() {
	status=$(cc_s3 GET "?list-type=2&max-keys=1")
	[ "$status" = 200 ] || { cc_s3_error "$status" >&2; exit 2; }
	if cc_lease_get; then :; else
		[ $? -eq 1 ] || { echo "$cc_error" >&2; exit 2; }
	fi
	check_conditional_writes
}

# check_conditional_writes: the lease is only as safe as the store's
# conditional writes. A second If-None-Match: * PUT of one object must be
# refused (412), and so must a PUT with If-Match: a wrong ETag (renewals
# depend on it); a store that takes either cannot keep two engines apart.
check_conditional_writes() {
	probe=${COMMANDCENTER_STORE_LEASE_KEY%/lease}/probe-$(cc_random_id)
	echo probe >"$cc_tmp/probe"
	first=$(cc_s3 PUT "$probe" -H 'If-None-Match: *' -T "$cc_tmp/probe")
	second=$(cc_s3 PUT "$probe" -H 'If-None-Match: *' -T "$cc_tmp/probe")
	third=$(cc_s3 PUT "$probe" -H 'If-Match: "commandcenter-not-this-etag"' -T "$cc_tmp/probe")
	cc_s3 DELETE "$probe" >/dev/null
	[ "$first" = 200 ] || { cc_s3_error "$first" >&2; exit 2; }
	case $second:$third in
	412:412 | 412:409) return 0 ;;
	412:*) what="a PUT with If-Match: a wrong ETag got $third, not 412" ;;
	*) what="a second PUT with If-None-Match: * got $second, not 412" ;;
	esac
	echo "the store at $COMMANDCENTER_STORE_BUCKET_URL does not enforce conditional writes ($what), on which the project's lease depends to keep two engines from writing one project: use a store that does (AWS S3, Cloudflare R2, MinIO, versitygw)" >&2
	exit 2
}

# claim: takes the lease for this copy. A lease held by another copy is
# waited for: renewed meanwhile, its holder is alive and the start is
# refused; unchanged for the lease's lifetime, it has lapsed and is taken
# over. Taking a lease that another copy held last, while this engine has a
# copy of its own, is refused: that copy is older than the store's.
claim() {
	waited=
	while :; do
		if cc_lease_get; then rc=0; else rc=$?; fi
		[ "$rc" -ne 2 ] || { echo "$cc_error" >&2; exit 2; }
		holder=$(cc_field "$cc_tmp/lease" copy)
		state=$(cc_field "$cc_tmp/lease" state)
		if [ "$rc" -eq 0 ] && [ "$holder" != "$copy" ] && [ "$state" = held ]; then
			if [ -z "$waited" ]; then
				waited=$cc_etag began=$(cc_uptime_ms) wait=$(lease_wait)
				say "the store's lease of project \"$project\" is held by copy $holder (host $(cc_field "$cc_tmp/lease" host), at $(cc_field "$cc_tmp/lease" at)): waiting up to $wait s to see whether it is renewed"
			elif [ "$cc_etag" != "$waited" ]; then
				cat >&2 <<EOF
project "$project" runs on another engine: the lease in the store $COMMANDCENTER_STORE is held by copy $holder (host $(cc_field "$cc_tmp/lease" host)), which renewed it at $(cc_field "$cc_tmp/lease" at) while this start waited. Two engines must never write one project's store. Stop it there first (dagger call --project $project stop, against that engine), then start it here: it restores from the store. Nothing was changed.
EOF
				exit 79
			elif [ $(($(cc_uptime_ms) - began)) -ge $((wait * 1000)) ]; then
				say "the lease of copy $holder was not renewed for $wait s: its engine is gone; taking it over"
				state=lapsed
			fi
			if [ "$state" = held ]; then
				sleep 2
				continue
			fi
		fi
		if [ -z "${dropping:-}" ] && local_data && [ -n "$holder" ] && [ "$holder" != "$copy" ]; then
			not_behind_the_store
		fi
		if cc_lease_put "$copy" held; then rc=0; else rc=$?; fi
		[ "$rc" -ne 2 ] || { echo "$cc_error" >&2; exit 2; }
		if [ "$rc" -eq 0 ]; then
			cc_lease_record held
			return 0
		fi
	done
}

# not_behind_the_store: this engine's copy may take a lease that another
# copy held last only when it holds everything the store does: the same
# database (system identifier), at or past the store's newest archived
# WAL segment and timeline. Otherwise the start is refused, naming the fix;
# nothing is changed, in the store or here.
not_behind_the_store() {
	local_position
	store_position
	if [ -n "$store_id" ] && [ "$store_id" != "$local_id" ]; then
		cat >&2 <<EOF
project "$project": this engine's copy of the database is another database (system identifier $local_id) than the store's (system identifier $store_id, in $COMMANDCENTER_STORE): it cannot continue the store's history. Nothing was changed.
To start from the store's copy: dagger call --project $project reset --local-only --yes
To keep this engine's database instead, give it a store of its own (another --store prefix), or export it (dagger call --project $project backup export --path $project.dump), delete both copies (reset --yes) and restore it (restore --dump $project.dump).
EOF
		exit 79
	fi
	wal_before "$local_wal" "$store_wal" || return 0
	cat >&2 <<EOF
project "$project": this engine's copy of the database is older than the store's: it ends at WAL $local_wal, and the store $COMMANDCENTER_STORE holds WAL up to $store_wal, written by copy $holder (host $(cc_field "$cc_tmp/lease" host), $(cc_field "$cc_tmp/lease" state) at $(cc_field "$cc_tmp/lease" at)), on another engine or after this copy was made. To start from the store's copy, drop this engine's copy and start again (the store keeps everything):
  dagger call --project $project reset --local-only --yes
Nothing was changed.
EOF
	exit 79
}

# local_position: local_id, the system identifier of this engine's copy,
# and local_wal, the newest WAL segment it is known to hold: its last
# checkpoint's, or a newer one that it completed (archive_status).
local_position() {
	pg_controldata "$PGDATA" >"$cc_tmp/control"
	local_id=$(sed -n 's/^Database system identifier: *//p' "$cc_tmp/control")
	local_wal=$( (sed -n "s/^Latest checkpoint's REDO WAL file: *//p" "$cc_tmp/control"
		ls "$PGDATA/pg_wal/archive_status" 2>/dev/null | grep -E '^[0-9A-F]{24}\.(ready|done)$' | cut -c 1-24) |
		LC_ALL=C sort | tail -n 1)
}

# store_position: store_id, the system identifier of the store's database
# (empty when it holds none), and store_wal, the newest WAL it holds: its
# newest archived segment, or the start of its newest timeline (a history
# file), whichever is later. The identifier is read from archive.info (an
# INI file), whole: jq would round a 64-bit number.
store_position() {
	store_id= store_wal=
	found=$(stanza_status)
	[ "$found" != 1 ] || return 0
	store_wal=$(jq -r '.[0].archive[-1].max // empty' "$cc_tmp/info")
	archive=$(jq -r '.[0].archive[-1].id // empty' "$cc_tmp/info")
	[ -n "$archive" ] || return 0
	store_id=$(pgb repo-get "archive/$PGBACKREST_STANZA/archive.info" | sed -n 's/^db-system-id=//p')
	timeline=$(pgb repo-ls --output=json "archive/$PGBACKREST_STANZA/$archive" |
		jq -r 'keys[] | select(test("^[0-9A-F]{8}\\.history")) | .[0:8]' | LC_ALL=C sort | tail -n 1)
	if [ -n "$timeline" ] && wal_before "$store_wal" "${timeline}0000000000000000"; then
		store_wal=${timeline}0000000000000000
	fi
}

# wal_before A B: WAL segment (or position) A comes before B: its timeline
# is lower, or on the same timeline it is older. Their names sort so.
wal_before() {
	[ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | LC_ALL=C sort | head -n 1)" = "$1" ]
}

# lease_wait: how long a lease read last must stay unchanged before it
# counts as lapsed: its holder's lifetime (ttl=, which it renews within) or
# this engine's, whichever is longer, and 5 s.
lease_wait() {
	theirs=$(cc_field "$cc_tmp/lease" ttl)
	case $theirs in '' | *[!0-9]*) theirs=0 ;; esac
	[ "$theirs" -gt "$ttl" ] || theirs=$ttl
	echo $((theirs + 5))
}

# stanza_status: the code of the stanza's status in `pgbackrest info`: 0 it
# has backups, 1 it does not exist, 2 it has no backup; anything else exits 2.
stanza_status() {
	pgb info --output=json >"$cc_tmp/info" 2>"$cc_tmp/info.err" || { cat "$cc_tmp/info.err" >&2; exit 2; }
	code=$(jq -r '.[0].status.code' "$cc_tmp/info")
	case $code in
	0 | 1 | 2) echo "$code" ;;
	*) echo "the store: pgbackrest info: $(jq -r '.[0].status.message' "$cc_tmp/info")" >&2; exit 2 ;;
	esac
}

# latest_label: the label of the newest base backup in the last info read.
latest_label() {
	jq -r '.[0].backup[-1].label // empty' "$cc_tmp/info"
}

# restore [TARGET]: the latest backup and all the archived WAL after it, or
# up to the point in time TARGET, into the empty data directory.
restore() {
	echo "${1:-latest}" >"$cc_dir/postgres.restoring"
	label=$(latest_label)
	if [ -n "${1:-}" ]; then
		# the backup for a time: restore --from-store named it
		label=$(cat "$cc_dir/postgres.restore-backup" 2>/dev/null) || label=
	fi
	stop=$(jq -r '.[0].backup[-1].timestamp.stop // empty' "$cc_tmp/info")
	began=$(cc_uptime_ms)
	if [ -n "${1:-}" ]; then
		# the backup on the history that the recovery follows (restore --from-store chose it)
		pgb restore ${label:+"--set=$label"} --type=time "--target=$1" --target-action=promote
	else
		pgb restore
	fi
	for name in db-password secret-key; do
		copy_secret "$name" "$PGDATA/commandcenter" "$GENERATED_DIR" 0444
	done
	backup_at=$(date -u -d "@$stop" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo "$stop")
	cc_write "$cc_dir/postgres.restored" "at=$(cc_now)" "instance=${COMMANDCENTER_INSTANCE:-}" \
		"backup=$label" "backup_at=$backup_at" "target=${1:-latest}" "until=" "took_ms=$(($(cc_uptime_ms) - began))"
	if [ -z "${1:-}" ]; then
		# the backup restored from serves this copy too: its WAL follows
		cc_write "$cc_dir/postgres.backup" "label=$label" "at=$backup_at" "epoch=$stop" "copy=$copy" "error="
	else
		# a point in time starts a new timeline, which no backup in the
		# store begins: the agent takes one at once, before the server is
		# reported ready, so that a later restore to the end follows it
		rm -f "$cc_dir/postgres.backup"
		echo "$1" >"$cc_recovering"
	fi
	rm -f "$cc_dir/postgres.restoring" "$cc_dir/postgres.restore-target" "$cc_dir/postgres.restore-backup"
	upto="to its end"
	[ -z "${1:-}" ] || upto="up to $1"
	say "project \"$project\" restored from the store $COMMANDCENTER_STORE in $(($(cc_uptime_ms) - began)) ms: base backup $label (taken $backup_at), then the archived WAL $upto; PostgreSQL replays it now"
}

# no_backup: the store holds archived WAL of the project but no base
# backup, and this engine no copy. That WAL is history no restore can use
# alone, but it is the project's: a start never deletes it.
no_backup() {
	cat >&2 <<EOF
project "$project": the store $COMMANDCENTER_STORE holds archived WAL of this project but no base backup, and this engine holds no copy of its database. Either an engine is taking the project's first base backup now (wait a minute and start again), or the session that wrote that WAL ended before its first base backup. Nothing was changed, and nothing in the store was deleted.
If the engine that ran it still has its copy, start the project there: it takes the base backup.
To give up that WAL and start a new, empty database: dagger call --project $project reset --yes
EOF
	exit 79
}

prepare() {
	copy=$(cat "$cc_dir/postgres.copy" 2>/dev/null) || copy=
	[ -n "$copy" ] || copy=$(cc_random_id)
	if [ -e "$cc_dir/postgres.restoring" ]; then
		say "the last restore from the store was interrupted: starting it again"
		find "$PGDATA" -mindepth 1 -delete
	fi
	! local_data || cc_refuse_unreached
	target=$(cat "$cc_dir/postgres.restore-target" 2>/dev/null) || target=
	code=
	if ! local_data; then
		# an assignment, so that a store that cannot be read ends the start;
		# read before the claim, so that a refusal leaves the lease as it is
		code=$(stanza_status)
		[ "$code" != 2 ] || no_backup
	fi
	claim
	echo "$copy" >"$cc_dir/postgres.copy"
	echo "$COMMANDCENTER_STORE" >"$cc_dir/postgres.store"
	cc_start_renewer
	if [ -n "$code" ]; then
		code=$(stanza_status) # again: what the lease's last holder left
		[ "$code" != 2 ] || no_backup
		[ "$code" != 0 ] || restore "$target"
	fi
}

# keep_secrets: copies of the generated database password and SECRET_KEY in
# PGDATA, which every base backup carries (encrypted), so that a restore
# brings them back with the data.
keep_secrets() {
	mkdir -p "$PGDATA/commandcenter"
	for name in db-password secret-key; do
		copy_secret "$name" "$GENERATED_DIR" "$PGDATA/commandcenter" 0400
	done
}

ensure_stanza() {
	if cc_fenced; then
		say "postgres: the start stops: $cc_fence_reason"
		exit 79
	fi
	if ! pgb stanza-create --no-online 2>"$cc_tmp/stanza"; then
		cat >&2 <<EOF
project "$project": the store $COMMANDCENTER_STORE holds another database under this project's name, which this one cannot continue: $(cc_last_error "$cc_tmp/stanza")
To start from the store's copy: dagger call --project $project reset --local-only --yes
To replace the store's copy with this database: dagger call --project $project reset --yes deletes both; start over from a backup (dagger call backup) if you need this one's data.
Nothing was changed.
EOF
		exit 79
	fi
}

# backup_due: no base backup of this copy yet, or the last is older than
# the interval.
backup_due() {
	last=$(cc_field "$cc_dir/postgres.backup" epoch)
	[ "$(cc_field "$cc_dir/postgres.backup" copy)" = "$copy" ] || return 0
	[ -n "$last" ] || return 0
	[ $(($(date +%s) - last)) -ge "$COMMANDCENTER_STORE_BACKUP_SECONDS" ]
}

# backup_type: full for this copy's first base backup (a new database, or
# one restored to a point in time, on a timeline of its own) and when the
# store's newest full backup ended COMMANDCENTER_STORE_FULL_SECONDS ago or
# more (seven backup intervals: weekly with the default 24 h); diff
# otherwise: the files changed since that full, which a restore reads with
# it. pgBackRest itself takes a full when the store holds none.
backup_type() {
	[ "$(cc_field "$cc_dir/postgres.backup" copy)" = "$copy" ] || { echo full; return 0; }
	pgb info --output=json >"$cc_tmp/info" 2>/dev/null || { echo full; return 0; }
	full=$(jq -r '[.[0].backup[]? | select(.type == "full") | .timestamp.stop] | last // 0' "$cc_tmp/info")
	if [ $(($(date +%s) - full)) -lt "$COMMANDCENTER_STORE_FULL_SECONDS" ]; then echo diff; else echo full; fi
}

backup() {
	began=$(cc_uptime_ms)
	status=0
	kind=$(backup_type)
	pgb backup "--type=$kind" 2>"$cc_tmp/backup" || status=$?
	if [ "$status" -eq 0 ]; then
		pgb info --output=json >"$cc_tmp/info" 2>/dev/null || :
		label=$(latest_label)
		cc_write "$cc_dir/postgres.backup" "label=$label" "at=$(cc_now)" "epoch=$(date +%s)" "copy=$copy" \
			"type=$kind" "took_ms=$(($(cc_uptime_ms) - began))" "error="
		say "postgres: $kind base backup $label in the store, in $(($(cc_uptime_ms) - began)) ms"
	else
		error=$(cc_last_error "$cc_tmp/backup")
		[ -n "$error" ] || error="pgbackrest backup exited with status $status (stopped with the server?)"
		# the last good backup stays named, with this failure beside it
		cc_write "$cc_dir/postgres.backup" "label=$(cc_field "$cc_dir/postgres.backup" label)" \
			"at=$(cc_field "$cc_dir/postgres.backup" at)" "epoch=$(cc_field "$cc_dir/postgres.backup" epoch)" \
			"copy=$(cc_field "$cc_dir/postgres.backup" copy)" "failed_at=$(cc_now)" "error=$error"
		say "postgres: base backup failed, tried again later: $error"
	fi
}

# renew_lease: one renewal, which the store takes only if nobody wrote the
# lease since this copy did (If-Match: the ETag of its last write), or the
# lease is this copy's last write whose answer was lost. Each
# renewal lets this copy write to the store until fence_ms (cc_fence_ms);
# a failed one leaves that time as it is, past which the copy is fenced,
# until a renewal succeeds. A lease that another copy wrote is lost: the
# server is stopped (exit 79).
renew_lease() {
	cc_etag=$(cc_field "$cc_dir/postgres.lease" etag)
	fence=$(cc_field "$cc_dir/postgres.lease" fence_ms)
	if cc_lease_put "$copy" held; then rc=0; else rc=$?; fi
	unknown=$rc
	if [ "$rc" -eq 1 ] && [ -s "$cc_tmp/unanswered" ]; then
		unknown=
		if ! cc_lease_get; then rc=2
		elif cmp -s "$cc_tmp/lease" "$cc_tmp/unanswered"; then
			# the store took this copy's last write, whose answer was lost
			if cc_lease_put "$copy" held; then rc=0; else rc=$?; unknown=$rc; fi
		fi
	fi
	case $rc in
	0)
		[ "$(cc_field "$cc_dir/postgres.lease" state)" != fenced ] ||
			say "postgres: the store's lease of project \"$project\" is renewed, unchanged since this copy's last renewal: writing to the store again"
		cc_lease_record held "" "$(cc_fence_ms "$cc_sent_ms")"
		rm -f "$cc_tmp/unanswered" ;;
	1) lost ;;
	*)
		[ "$unknown" != 2 ] || cp "$cc_tmp/mine" "$cc_tmp/unanswered"
		if [ "$(cc_uptime_ms)" -lt "$fence" ]; then
			cc_lease_record held "renewal failed: $cc_error" "$fence"
		else
			[ "$(cc_field "$cc_dir/postgres.lease" state)" = fenced ] ||
				say "postgres: the store's lease of project \"$project\" was not renewed within $((ttl * 3 / 4)) s ($cc_error): this copy writes nothing to the store (it is fenced) until it renews the lease; its writes stay in this engine meanwhile"
			cc_lease_record fenced "renewal failed: $cc_error" "$fence"
		fi ;;
	esac
}

# lost: another copy wrote the lease: this copy must not write to the store
# any more (it is fenced for good), and its server, if it runs, stops.
lost() {
	cc_lease_record lost "another copy replaced this copy's lease at $(cc_now)"
	say "postgres: LOST the store's lease of project \"$project\" to another copy: stopping the server, which must not write to the store any more"
	server=$(cat "$cc_dir/postgres.server" 2>/dev/null) || server=
	[ -z "$server" ] || kill -s INT "$server" 2>/dev/null || :
}

# switch_if_due: the current WAL segment, when it holds writes and nothing
# was archived for 55 s, is switched, so that it is archived. PostgreSQL's
# own archive_timeout does that too, but was measured not to after an
# explicit pg_switch_wal (as flush makes): for over 2 minutes of writes.
# While archiving fails, it does not switch: each switch would add a
# segment to pg_wal until the store is back.
switch_if_due() {
	[ -z "$(cc_field "$cc_dir/postgres.archive" failing_since)" ] || return 0
	last=$(cc_field "$cc_dir/postgres.archive" epoch)
	now=$(date +%s)
	[ $((now - ${last:-0})) -ge 55 ] && [ $((now - ${switched:-0})) -ge 55 ] || return 0
	offset=$(sql 'select file_offset from pg_walfile_name_offset(pg_current_wal_lsn())') || return 0
	[ "${offset:-0}" -gt 40 ] || return 0
	sql 'select pg_switch_wal()' >/dev/null || :
	switched=$now
}

agent() {
	trap '' HUP INT QUIT TERM
	until pg_isready -q -h "$socket" -U "$POSTGRES_USER" -d "$POSTGRES_DB" &&
		[ "$(sql 'select pg_is_in_recovery()' 2>/dev/null)" = f ]; do
		sleep 0.5
	done
	rm -f "$cc_recovering" # out of recovery: a restore's target was reached
	if [ "$(cc_field "$cc_dir/postgres.restored" instance)" = "${COMMANDCENTER_INSTANCE:-}" ]; then
		until=$(sed -n 's/.*last completed transaction was at log time \(.*\)$/\1/p' "$cc_dir/postgres.log" 2>/dev/null | tail -n 1)
		sed -i "s/^until=.*/until=${until:-none}/" "$cc_dir/postgres.restored"
		say "postgres: the restored database has every transaction up to ${until:-the end of the archive}"
	fi
	# The local record may name a backup of another store (--store changed,
	# or the store lost it): the store itself says whether it has one.
	if [ "$(stanza_status)" != 0 ]; then
		rm -f "$cc_dir/postgres.backup"
	fi
	while :; do
		if backup_due; then backup; fi
		if [ ! -e "$cc_dir/postgres.based" ] && ! backup_due; then
			# the health check's condition: a restore can start from the store
			cc_write "$cc_dir/postgres.based" "at=$(cc_now)" "label=$(cc_field "$cc_dir/postgres.backup" label)"
		fi
		sleep 5
		switch_if_due
		# the renewer stops the server too; this covers a loss just before it ran
		[ "$(cc_field "$cc_dir/postgres.lease" state)" != lost ] || kill -s INT "$1" 2>/dev/null || :
	done
}

# renewer: renews the lease every fifth of its lifetime (renew_lease),
# until the server stops or another copy takes the lease.
renewer() {
	trap '' HUP INT QUIT TERM
	copy=$(cat "$cc_dir/postgres.copy")
	while sleep $((ttl / 5)); do
		renew_lease
		[ "$(cc_field "$cc_dir/postgres.lease" state)" != lost ] || exit 0
	done
}

serve() {
	copy=$(cat "$cc_dir/postgres.copy")
	if [ "$(cc_field "$cc_dir/postgres.lease" state)" = lost ]; then
		say "postgres: another copy took the store's lease of project \"$project\" during this start: the server does not start"
		exit 79
	fi
	# the server, the agent and their pgBackRest write to the store only
	# while this copy is not fenced (cc_fenced)
	COMMANDCENTER_LEASE_FENCE=1
	export COMMANDCENTER_LEASE_FENCE
	ensure_stanza
	keep_secrets
	rm -f "$cc_dir/postgres.based"
	# full-page images compressed in the WAL itself (lz4 from PostgreSQL
	# 15, pglz before): less WAL for the archiver to compress, encrypt and
	# push
	walcomp=on
	[ "${COMMANDCENTER_PG_MAJOR:-0}" -lt 15 ] || walcomp=lz4
	postgres "$@" -c archive_mode=on -c "archive_command=$(command -v commandcenter-pgbackrest) archive-push %p" \
		-c archive_timeout=60 -c wal_compression=$walcomp &
	server=$!
	echo "$server" >"$cc_dir/postgres.server"
	agent "$server" &
	helper=$!
	trap 'say "postgres: stop signal: the server writes its shutdown checkpoint"' INT TERM QUIT HUP
	cc_wait "$server"
	status=$cc_status
	kill -s KILL "$helper" 2>/dev/null || :
	cc_stop_renewer
	rm -f "$cc_dir/postgres.server"
	if [ "$(cc_field "$cc_dir/postgres.lease" state)" = lost ]; then
		exit 79
	fi
	if [ "$status" -ne 0 ] && [ -e "$cc_recovering" ]; then
		# the log's copier may write PostgreSQL's last lines just after it exits
		for _ in 1 2 3 4 5 6 7 8 9 10; do cc_unreached >/dev/null && break; sleep 0.5; done
		cc_refuse_unreached
	fi
	left=$(cc_ready_segments)
	if [ -n "$left" ]; then
		say "postgres: stopped, and the store is BEHIND: WAL segments $left are in this engine only ($(cc_field "$cc_dir/postgres.archive" error)). The lease stays with this copy; once the store is back, the next start (or restore --from-store, or reset --local-only) archives them"
	elif [ "$status" -eq 0 ]; then
		cc_etag=$(cc_field "$cc_dir/postgres.lease" etag)
		if cc_lease_put "$copy" released; then
			cc_lease_record released
			say "postgres: stopped; the store has its WAL, and its lease is released"
		else
			say "postgres: stopped; its lease could not be released (${cc_error:-taken by another copy}): it lapses in $ttl s"
		fi
	fi
	exit "$status"
}

flush() {
	[ "$(sql 'select pg_is_in_recovery()')" = f ] || exit 0
	since=$(cc_field "$cc_dir/postgres.archive" failing_since)
	if [ -n "$since" ]; then
		say "postgres: archiving to the store fails since $since: the WAL since $(cc_field "$cc_dir/postgres.archive" at) stays in this engine, and is archived at the next start once the store is back"
		exit 0
	fi
	wal=$(sql 'select pg_walfile_name(pg_switch_wal())') # the segment it ends
	began=$(cc_uptime_ms)
	until [ "$(sql "select coalesce(last_archived_wal >= '$wal', false) from pg_stat_archiver")" = t ]; do
		sleep 0.2
	done
	say "postgres: WAL up to $wal archived in the store before the stop, in $(($(cc_uptime_ms) - began)) ms"
}

restore_to() {
	cc_lock postgres
	cc_refuse_unarchived "Dropping this copy for the restore"
	rm -f "$cc_recovering"
	find "$PGDATA" -mindepth 1 -delete
	echo "$2" >"$cc_dir/postgres.restore-backup"
	echo "$1" >"$cc_dir/postgres.restore-target"
	say "project \"$project\": this engine's copy of the database is dropped; the next start restores it from the store to $1"
}

drop() {
	cc_lock postgres
	copy=$(cat "$cc_dir/postgres.copy" 2>/dev/null) || copy=$(cc_random_id)
	dropping=1
	claim
	if [ "$(stanza_status)" != 1 ]; then
		pgb stop
		pgb stanza-delete --force
	fi
	status=$(cc_s3 DELETE "$COMMANDCENTER_STORE_LEASE_KEY")
	case $status in 204 | 200 | 404) ;; *) cc_s3_error "$status" >&2; exit 2 ;; esac
	say "project \"$project\": its copy in the store $COMMANDCENTER_STORE is deleted"
}

command=$1
shift
case $command in
check) check ;;
prepare) prepare ;;
serve) serve "$@" ;;
flush) flush ;;
range)
	pgb info --output=json
	echo
	pgb repo-ls --recurse --output=json "archive/$PGBACKREST_STANZA" 2>/dev/null || echo '{}'
	;;
read-archive) cc_read_archive "$1" ;;
last-commit) cc_last_commit ;;
renew) renewer ;;
catch-up) exec commandcenter-pg-catchup ;;
restore-to) restore_to "$1" "${2:-}" ;;
drop) drop ;;
*) echo "commandcenter-pg-store: unknown command $command" >&2; exit 2 ;;
esac
