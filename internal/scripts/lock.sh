# commandcenter-lock: sourced by the other launch scripts (". commandcenter-lock").
# One instance of a project's service may run at a time, in any engine session:
# its launcher holds an exclusive flock(2) on NAME.lock in the service's run
# volume (COMMANDCENTER_LOG_DIR, which also holds its log) for as long as any
# of its processes lives. The kernel drops the lock when they die, however
# they die, so a killed service never leaves a lock behind. NAME.run records
# when the holder started and its address in the engine's network.
cc_dir=${COMMANDCENTER_LOG_DIR:?COMMANDCENTER_LOG_DIR is not set}

# cc_lock NAME: takes NAME's lock on fd 9, or exits 75 when another instance
# holds it. A reader's shared lock lasts an instant, so a busy lock is tried
# again for 3 s before it counts as held.
cc_lock() {
	exec 9>>"$cc_dir/$1.lock"
	cc_n=0
	until flock -n 9; do
		cc_n=$((cc_n + 1))
		if [ "$cc_n" -ge 30 ]; then
			echo "project \"${COMMANDCENTER_PROJECT:-}\": $1 is already running (started $(cc_started "$1")), in another Dagger session or with other settings in this one; stop it there, or use another --project" >&2
			exit 75
		fi
		sleep 0.1
	done
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

# cc_record NAME: notes the time and this container's address for readers.
cc_record() {
	cc_addr=$(awk '/\/32 host/ && prev !~ /^127\./ { print prev; exit } { prev = $2 }' /proc/net/fib_trie 2>/dev/null) || cc_addr=
	printf 'started=%s\naddress=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$cc_addr" >"$cc_dir/$1.run.tmp"
	mv -f "$cc_dir/$1.run.tmp" "$cc_dir/$1.run"
}

# cc_started NAME: when NAME's last instance started.
cc_started() {
	cc_s=$(sed -n 's/^started=//p' "$cc_dir/$1.run" 2>/dev/null) || cc_s=
	echo "${cc_s:-at an unknown time}"
}

# cc_address NAME: the address of NAME's last instance.
cc_address() {
	sed -n 's/^address=//p' "$cc_dir/$1.run" 2>/dev/null
}
