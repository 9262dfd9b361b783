#!/bin/sh
# commandcenter-request stop|restart NAME TIMEOUT [PROBE COMMAND...]
# Asks the running instance of the project's service NAME, whichever engine
# session runs it, to stop or to restart in place, through the FIFO on its
# run volume that its supervisor (commandcenter-run) reads. The request
# names the instance, so it never reaches a later one.
#   stop: returns once the instance has exited and released its lock;
#   restart: returns once the supervisor has started the server again and
#     PROBE COMMAND, run by commandcenter-probe, succeeds.
# It prints what it did as KEY=VALUE lines: result (stopped, restarted,
# exited: the instance ended before it took the request), instance, started
# and took_ms. Exits 3 when nothing runs, 1 when TIMEOUT seconds pass first.
set -eu
. commandcenter-lock
action=$1
name=$2
timeout=$3
shift 3

begin=$(cc_uptime_ms)
elapsed_ms() { echo $(($(cc_uptime_ms) - begin)); }
report() {
	printf 'result=%s\ninstance=%s\nstarted=%s\ntook_ms=%s\n' "$1" "$instance" "$started" "$(elapsed_ms)"
}
give_up() {
	echo "$name did not $action within ${timeout}s (instance $instance, state $(cc_field "$cc_dir/$name.run" state)); see \`dagger call logs --service $name\`" >&2
	exit 1
}

if ! cc_running "$name"; then
	cc_not_running "$name"
	exit 3
fi
instance=$(cc_field "$cc_dir/$name.run" instance)
started=$(cc_started "$name")
request=$(cc_random_id)
# The supervisor's watcher reads the FIFO; with no reader, the write would
# block, so it is bounded.
if ! [ -p "$cc_dir/$name.requests" ] ||
	! timeout 5 sh -c 'printf "%s\n" "$1" >"$2"' sh \
		"action=$action instance=$instance request=$request at=$(cc_now)" "$cc_dir/$name.requests"; then
	if ! cc_running "$name"; then
		report exited
		exit 0
	fi
	echo "$name (instance $instance, running since $started) takes no requests: an instance started by an older version of the module does not; stop it in the session that runs it" >&2
	exit 1
fi

answered() { [ "$(cc_field "$cc_dir/$name.done" request)" = "$request" ]; }
deadline=$((begin + timeout * 1000))
case $action in
stop)
	while cc_running "$name"; do
		[ "$(cc_uptime_ms)" -lt "$deadline" ] || give_up
		sleep 0.1
	done
	if answered; then report stopped; else report exited; fi
	;;
restart)
	until answered; do
		cc_running "$name" || { report exited; exit 0; }
		[ "$(cc_uptime_ms)" -lt "$deadline" ] || give_up
		sleep 0.1
	done
	until commandcenter-probe "$name" "$@" >/dev/null 2>&1; do
		if ! cc_running "$name"; then
			echo "$name exited after its restart (instance $instance); see \`dagger call logs --service $name\`" >&2
			exit 1
		fi
		[ "$(cc_uptime_ms)" -lt "$deadline" ] || give_up
		sleep 0.2
	done
	report restarted
	;;
*)
	echo "unknown action $action: want stop or restart" >&2
	exit 2
	;;
esac
