# commandcenter-lock: sourced by the other launch scripts (". commandcenter-lock").
# One instance of a project's service may run at a time, in any engine session:
# its launcher holds an exclusive flock(2) on NAME.lock in the service's run
# volume (COMMANDCENTER_LOG_DIR, which also holds its log) for as long as any
# of its processes lives. The kernel drops the lock when they die, however
# they die, so a killed service never leaves a lock behind. NAME.run records
# the holder's instance, start, state and address in the engine's network;
# The FIFO NAME.requests and NAME.done carry requests from other sessions and
# their answers, NAME.exit the last failed exit (see commandcenter-run).
cc_dir=${COMMANDCENTER_LOG_DIR:?COMMANDCENTER_LOG_DIR is not set}

# cc_lock NAME: takes NAME's lock on fd 9, or exits 75 when another instance
# holds it. A reader's shared lock lasts an instant, and an instance that is
# going away holds it a little longer: a busy lock is tried again for
# $COMMANDCENTER_LOCK_WAIT seconds (default 8: the engine takes about 7 s to
# notice a killed CLI and kill its session's services), for 30 s while
# its holder says it is stopping, or for 120 s while it pushes postgres's
# WAL to the store (NAME.pushing, see commandcenter-pg-catchup), before it
# counts as held by a live instance. Whoever takes the lock clears a
# NAME.pushing that a killed push left.
cc_lock() {
	exec 9>>"$cc_dir/$1.lock"
	cc_t0=$(date +%s)
	until flock -n 9; do
		cc_limit=${COMMANDCENTER_LOCK_WAIT:-8}
		case $(cc_field "$cc_dir/$1.run" state) in
		stopping | exited) cc_limit=30 ;;
		esac
		[ ! -e "$cc_dir/$1.pushing" ] || cc_limit=120
		if [ $(($(date +%s) - cc_t0)) -ge "$cc_limit" ]; then
			if [ -e "$cc_dir/$1.pushing" ]; then
				echo "project \"${COMMANDCENTER_PROJECT:-}\": $1's WAL has been pushed to the store for over $cc_limit s (by status, reset --local-only or restore --from-store, in another session); start again once it ends" >&2
			else
				echo "project \"${COMMANDCENTER_PROJECT:-}\": $1 is already running (started $(cc_started "$1")), in another Dagger session or with other settings in this one; stop it from any terminal with \`dagger call --project ${COMMANDCENTER_PROJECT:-} stop\`, or use another --project" >&2
			fi
			exit 75
		fi
		sleep 0.1
	done
	rm -f "$cc_dir/$1.pushing"
}

# cc_running NAME: true while an instance holds NAME's lock.
cc_running() {
	[ -e "$cc_dir/$1.lock" ] || return 1
	exec 8<"$cc_dir/$1.lock"
	if flock -n -s 8; then
		exec 8<&-
		return 1
	fi
	exec 8<&-
}

# cc_record NAME INSTANCE STATE RESTARTS: notes, for readers, this
# instance's id, its start, its state (running, restarting, stopping,
# exited) and since when, how often it restarted in place, and this
# container's address. The lock holder alone writes it.
cc_record() {
	cc_addr=$(awk '/\/32 host/ && prev !~ /^127\./ { print prev; exit } { prev = $2 }' /proc/net/fib_trie 2>/dev/null) || cc_addr=
	cc_at=$(cc_now)
	cc_first=$cc_at
	if [ "$(cc_field "$cc_dir/$1.run" instance)" = "$2" ]; then
		cc_first=$(cc_started "$1")
	fi
	cc_write "$cc_dir/$1.run" "started=$cc_first" "address=$cc_addr" "instance=$2" \
		"state=$3" "since=$cc_at" "restarts=$4"
}

# cc_write FILE LINE...: replaces FILE with the lines, at once for readers.
cc_write() {
	cc_file=$1
	shift
	printf '%s\n' "$@" >"$cc_file.tmp"
	mv -f "$cc_file.tmp" "$cc_file"
}

# cc_now: the time, in UTC, as the records write it.
cc_now() {
	date -u +%Y-%m-%dT%H:%M:%SZ
}

# cc_uptime_ms: milliseconds since the machine booted, for durations.
cc_uptime_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# cc_field FILE KEY: the value of KEY=... in FILE, or nothing.
cc_field() {
	sed -n "s/^$2=//p" "$1" 2>/dev/null | head -n 1
}

# cc_random_id: 16 random hex digits.
cc_random_id() {
	od -An -N8 -tx1 /dev/urandom | tr -d ' \n'
}

# cc_wait PID: waits until PID, a child of this shell, has exited, however
# many trapped signals come, and sets cc_status to its exit status. A wait
# that a trap interrupted returns more than 128, and PID may have exited
# while the trap ran: it asks once more; a shell that forgot PID answers 127.
cc_wait() {
	cc_status=0
	wait "$1" || cc_status=$?
	while kill -0 "$1" 2>/dev/null; do
		cc_status=0
		wait "$1" || cc_status=$?
	done
	cc_final=0
	wait "$1" 2>/dev/null || cc_final=$?
	[ "$cc_final" -eq 127 ] || cc_status=$cc_final
}

# cc_done NAME REQUEST RESULT: answers a request (see commandcenter-request).
cc_done() {
	cc_write "$cc_dir/$1.done" "request=$2" "result=$3" "at=$(cc_now)"
}

# cc_exited NAME STATUS: notes a server that exited with a failure, for Status.
cc_exited() {
	cc_write "$cc_dir/$1.exit" "status=$2" "at=$(cc_now)"
}

# cc_started NAME: when NAME's last instance started.
cc_started() {
	cc_s=$(cc_field "$cc_dir/$1.run" started)
	echo "${cc_s:-at an unknown time}"
}

# cc_not_running NAME: says on stderr that NAME is not running, and since when.
cc_not_running() {
	if [ -e "$cc_dir/$1.run" ]; then
		echo "not running (last started $(cc_started "$1"))" >&2
	else
		echo "not running (never started in this project)" >&2
	fi
}

# cc_address NAME: the address of NAME's last instance.
cc_address() {
	cc_field "$cc_dir/$1.run" address
}
