# commandcenter-pg-pitr: sourced by commandcenter-pg-store
# (". commandcenter-pg-pitr"), after commandcenter-store. What a restore
# from the store needs beside pgBackRest: the WAL that no drop of this
# engine's copy may lose, the last transaction that the archive holds, and
# a restore to a point in time that PostgreSQL could not reach.

# cc_recovering: exists from a restore to a point in time until PostgreSQL
# has reached it and left recovery; it holds the target.
cc_recovering=$cc_dir/postgres.recovering

# cc_refuse_unarchived WHAT: exits 79, naming the segments and the fix,
# when this engine's copy holds WAL that the store never took: WHAT (a drop
# of the copy) would lose the writes in it.
cc_refuse_unarchived() {
	cc_left=$(cc_ready_segments)
	[ -n "$cc_left" ] || return 0
	cat >&2 <<EOF
project "$project": this engine's copy of the database holds WAL that the store $COMMANDCENTER_STORE never took, segments $cc_left. $1 would lose the writes in them, so nothing was changed. Bring the store back, then run the command again: it pushes them to the store first (and refuses again while the store does not take them).
EOF
	exit 79
}

# cc_unreached: prints the end of the last transaction replayed ("none"
# when there was none), and is true, when the last restore to a point in
# time stopped without reaching it: PostgreSQL said so in the log after
# that restore.
cc_unreached() {
	[ -e "$cc_recovering" ] || return 1
	awk '/restored from the store/ { failed = 0; last = "" }
		/last completed transaction was at log time / { sub(/.*log time /, ""); last = $0 }
		/recovery ended before configured recovery target was reached/ { failed = 1 }
		END { if (failed) print (last == "" ? "none" : last); exit !failed }' "$cc_dir/postgres.log" 2>/dev/null
}

# cc_refuse_unreached: exits 79, with what happened and the fix, when the
# last restore to a point in time could not reach it. The copy stays as
# that restore left it (mid-recovery, which no start can finish), and no
# start runs PostgreSQL on it again: each says this, until a restore is
# asked for.
cc_refuse_unreached() {
	cc_last=$(cc_unreached) || return 0
	cc_target=$(cat "$cc_recovering")
	# PostgreSQL's "2026-12-06 02:20:54.306134+00" as restore --time reads it
	cc_upto=$(printf '%s' "$cc_last" | sed 's/^\([0-9-]*\) \([0-9:.]*\)\([+-][0-9][0-9]\)$/\1T\2\3:00/')
	cc_fix="  dagger call --project $project restore --from-store --time $cc_upto   (up to the last transaction)
"
	[ "$cc_last" != none ] || cc_fix=
	cat >&2 <<EOF
project "$project": the restore from the store $COMMANDCENTER_STORE to $cc_target did not reach that time: PostgreSQL replayed all the archived WAL and stopped ("recovery ended before configured recovery target was reached"); the last transaction it replayed ended at $cc_last. The store is unchanged. This engine's copy stays as that restore left it, which no start can finish: this start and the next ones stop here, without running PostgreSQL, until you ask for another restore:
$cc_fix  dagger call --project $project restore --from-store   (to the end of the archive)
EOF
	exit 79
}

# cc_read_archive KEY: the file KEY of the stanza's archive (a timeline's
# history), decrypted.
cc_read_archive() {
	commandcenter-pgbackrest repo-get "archive/$PGBACKREST_STANZA/$1"
}

# cc_last_commit: reads archived WAL segments, their keys under
# archive/STANZA one a line on stdin, newest first, until one holds the end
# of a transaction; prints its key and the time (UTC) of the last commit or
# abort in it, "KEY YYYY-MM-DD HH:MM:SS.ffffff", or nothing when none does.
# A segment that cannot be read ends it (exit 2): skipping one would name
# an older transaction as the last.
cc_last_commit() {
	while read -r cc_key; do
		[ -n "$cc_key" ] || continue
		cc_name=${cc_key##*/}
		cc_name=$cc_tmp/${cc_name%%[-.]*}
		if ! commandcenter-pgbackrest repo-get "archive/$PGBACKREST_STANZA/$cc_key" >"$cc_tmp/segment" 2>"$cc_tmp/get" ||
			! cc_decompress "$cc_key" <"$cc_tmp/segment" >"$cc_name" 2>>"$cc_tmp/get"; then
			echo "the store: cannot read the archived WAL segment $cc_key: $(cc_last_error "$cc_tmp/get")" >&2
			exit 2
		fi
		TZ=UTC pg_waldump "$cc_name" >"$cc_tmp/records" 2>"$cc_tmp/get" || :
		if ! grep -q '^rmgr: ' "$cc_tmp/records"; then
			echo "the store: pg_waldump cannot read the archived WAL segment $cc_key: $(cc_last_error "$cc_tmp/get")" >&2
			exit 2
		fi
		cc_at=$(sed -n -e 's/.*desc: COMMIT \([0-9-]* [0-9:.]*\) UTC.*/\1/p' \
			-e 's/.*desc: ABORT \([0-9-]* [0-9:.]*\) UTC.*/\1/p' "$cc_tmp/records" | tail -n 1)
		rm -f "$cc_name" "$cc_tmp/segment"
		if [ -n "$cc_at" ]; then
			echo "$cc_key $cc_at"
			return 0
		fi
	done
}

# cc_decompress KEY: stdin, compressed as pgBackRest names it in KEY's
# extension, decompressed to stdout.
cc_decompress() {
	case $1 in
	*.lz4) if command -v lz4 >/dev/null; then lz4 -dc; else zstd -dqc --format=lz4; fi ;;
	*.zst) zstd -dqc ;;
	*.gz) gzip -dc ;;
	*.bz2) bzip2 -dc ;;
	*) cat ;;
	esac
}
