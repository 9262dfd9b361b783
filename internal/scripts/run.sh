#!/bin/sh
# commandcenter-run NAME COMMAND [ARG...]
# The supervisor of service NAME. It takes the project's lock for NAME (see
# commandcenter-lock), so a second instance, from another engine session or
# another definition, exits 75 instead of sharing its volumes. Then it runs
# COMMAND, with umask 077, and copies its stdout and stderr to the
# container's and to $COMMANDCENTER_LOG_DIR/NAME.log, a per-project volume
# from which the module's Logs function reads them back.
#
# Stopping COMMAND: a stop signal from the engine, or a request that
# commandcenter-request sends through a FIFO on the run volume from any
# session, gets the service's own graceful stop signal
# ($COMMANDCENTER_STOP_SIGNAL: INT, a fast shutdown with a checkpoint, for
# PostgreSQL), then SIGKILL after
# $COMMANDCENTER_STOP_GRACE seconds. $COMMANDCENTER_BEFORE_STOP, when set, runs
# first, for at most $COMMANDCENTER_BEFORE_STOP_TIMEOUT seconds (default 20):
# postgres with a store archives its last WAL then. A restart request runs COMMAND again in
# this container, at the same address. A request names the instance it is
# for, so one left behind never reaches a later instance.
#
# With $COMMANDCENTER_WORKER set (a worker's), COMMAND that exits by itself
# once its start is over is started again, after 1 s, then 2, 4, ... up to
# 60 s (back to 1 s once it ran a minute), each exit noted for Status. Its
# start is over once the engine's health check (commandcenter-alive) passed
# for this instance, which it notes in NAME.settled: a clock here would
# count the launchers' own time, seconds on a loaded engine, as the
# worker's. An exit before that ends the supervisor, so that the start
# fails with its stderr. Such an exit, with a status of 125 or less, would
# repeat: the supervisor then exits 78, which the module does not retry,
# and says so on stderr. A status above 125 keeps its own code (126 and
# 127: not runnable, not retried either; above 128: a signal, such as the
# out-of-memory killer's, which may not repeat).
#
# It exits with COMMAND's status, or 143 after a stop requested from another
# session, only once the log copies hold COMMAND's last line.
set -eu
name=$1
shift
umask 077
. commandcenter-lock
stop_signal=${COMMANDCENTER_STOP_SIGNAL:-TERM}
grace=${COMMANDCENTER_STOP_GRACE:-10}
cc_lock "$name"
instance=$(cc_random_id)
COMMANDCENTER_INSTANCE=$instance
export COMMANDCENTER_INSTANCE
restarts=0
cc_record "$name" "$instance" running "$restarts"
log=$cc_dir/$name.log
max_bytes=${COMMANDCENTER_LOG_MAX_BYTES:-10485760}
if [ -f "$log" ] && [ "$(($(wc -c <"$log")))" -gt "$max_bytes" ]; then
	mv -f "$log" "$log.1"
fi
pipes=$(mktemp -d)
mkfifo "$pipes/out" "$pipes/err"
# The copiers ignore stop signals: they end when the pipes close, after
# COMMAND's last line.
(trap '' HUP INT QUIT TERM USR1 USR2; exec tee -a "$log" <"$pipes/out") &
copiers=$!
(trap '' HUP INT QUIT TERM USR1 USR2; exec tee -a "$log" <"$pipes/err" >&2) &
copiers="$copiers $!"
exec 3>"$pipes/out" 4>"$pipes/err"
rm -rf "$pipes"
say() { echo "[commandcenter] $name $*" >&3; }

# COMMAND runs in a process group of its own (setsid), so that a stop
# reaches every process it started, as the engine's signal to the
# container's group would: a server's children must not outlive it and keep
# its lock and its log open.
group=
if command -v setsid >/dev/null 2>&1; then
	group=setsid
fi
# signal_child SIG: SIG to COMMAND's process group, or to COMMAND alone.
signal_child() {
	if [ -n "$group" ]; then
		kill -s "$1" -- "-$child" 2>/dev/null || kill -s "$1" "$child" 2>/dev/null || :
	else
		kill -s "$1" "$child" 2>/dev/null || :
	fi
}

# stop_child STATE: the graceful stop signal now, SIGKILL after the grace.
child=
killer=
stop_child() {
	if [ -z "$child" ]; then
		# Between two runs of a worker: its wait ends now.
		[ -z "${sleeper:-}" ] || kill "$sleeper" 2>/dev/null || :
		return 0
	fi
	cc_record "$name" "$instance" "$1" "$restarts"
	if [ -n "${COMMANDCENTER_BEFORE_STOP:-}" ] && [ -z "$killer" ]; then
		# shellcheck disable=SC2086 # a command and its arguments
		timeout "${COMMANDCENTER_BEFORE_STOP_TIMEOUT:-20}" $COMMANDCENTER_BEFORE_STOP >&3 2>&4 ||
			say "could not finish \"$COMMANDCENTER_BEFORE_STOP\" before the stop (status $?)"
	fi
	signal_child "$stop_signal"
	if [ -z "$killer" ]; then
		(
			trap '' HUP INT QUIT TERM USR1 USR2
			sleep "$grace"
			signal_child KILL
		) 3>&- 4>&- 9>&- &
		killer=$!
	fi
}

# take_request: what the watcher found, acted on: "stop" or "restart".
requested=
request=
take_request() {
	action=$(cc_field "$cc_dir/$name.taken" action)
	request=$(cc_field "$cc_dir/$name.taken" request)
	case $action in
	stop) requested=stop; say "stop requested from another session (request $request)"; stop_child stopping ;;
	restart) requested=restart; say "restart requested (request $request)"; stop_child restarting ;;
	esac
}
trap take_request USR1
for sig in HUP INT QUIT TERM; do
	trap "say 'got SIG$sig: stopping with SIG$stop_signal'; [ \"\$requested\" = stop ] || requested=signalled; stop_child stopping" "$sig"
done

# The watcher reads requests from the FIFO NAME.requests, costing nothing
# while none comes, and hands one for this instance to the supervisor; it
# drops any other. It is killed when the supervisor ends.
requests=$cc_dir/$name.requests
rm -f "$requests"
mkfifo -m 600 "$requests"
supervisor=$$
(
	trap '' HUP INT QUIT TERM USR1 USR2
	set -f
	while :; do
		while read -r line; do
			# shellcheck disable=SC2086 # one KEY=VALUE word each
			printf '%s\n' $line >"$cc_dir/$name.pending"
			if [ "$(cc_field "$cc_dir/$name.pending" instance)" = "$instance" ]; then
				mv -f "$cc_dir/$name.pending" "$cc_dir/$name.taken"
				kill -s USR1 "$supervisor" 2>/dev/null || exit 0
			else
				echo "[commandcenter] $name ignored a request for another instance: $line" >>"$log"
				rm -f "$cc_dir/$name.pending"
			fi
		done <"$requests"
	done
) 3>&- 4>&- 9>&- &
watcher=$!

# run_child: COMMAND until it exits, however many trapped signals come.
run_child() {
	say "starting as $(id)"
	# Builtins only from here until the wait: a stop signal to the
	# container's group would end a program run now, and this shell with it.
	read -r up _ </proc/uptime
	child_at=${up%.*}${up#*.}0
	$group "$@" >&3 2>&4 3>&- 4>&- &
	child=$!
	if [ -n "${COMMANDCENTER_WORKER:-}" ]; then
		printf 'pid=%s\nat_ms=%s\n' "$child" "$child_at" >"$cc_dir/$name.child"
	fi
	cc_wait "$child"
	status=$cc_status
	# What COMMAND left in its process group (a server's helper, a child
	# that outlived it) would keep the lock and the log open: it goes too.
	if [ -n "$group" ]; then
		kill -s KILL -- "-$child" 2>/dev/null || :
	fi
	if [ -n "$killer" ]; then
		kill "$killer" 2>/dev/null || :
		killer=
	fi
	child=
}

# backoff: after COMMAND exited by itself, whether to start it again (see
# COMMANDCENTER_WORKER), once the delay is over; a stop or restart request
# cuts the wait short.
settled=
delay=1
backoff() {
	[ -n "${COMMANDCENTER_WORKER:-}" ] && [ -z "$requested" ] || return 1
	[ -n "$settled" ] || [ "$(cc_field "$cc_dir/$name.settled" instance)" != "$instance" ] || settled=1
	[ -n "$settled" ] || return 1
	ran_ms=$(($(cc_uptime_ms) - child_at))
	[ "$ran_ms" -lt 60000 ] || delay=1
	cc_exited "$name" "$status"
	cc_record "$name" "$instance" restarting "$restarts"
	say "exited by itself with status $status after ${ran_ms}ms; starting again in ${delay}s"
	# A second at a time: a request's trap kills the sleeper, and one whose
	# trap ran before a sleeper was known is seen within the second.
	left=$delay
	while [ "$left" -gt 0 ] && [ -z "$requested" ]; do
		sleep 1 3>&- 4>&- 9>&- &
		sleeper=$!
		cc_wait "$sleeper"
		sleeper=
		left=$((left - 1))
	done
	delay=$((delay * 2 > 60 ? 60 : delay * 2))
	[ "$requested" != stop ] && [ "$requested" != signalled ]
}

while :; do
	run_child "$@"
	if backoff; then
		restarts=$((restarts + 1))
		cc_record "$name" "$instance" running "$restarts"
		[ "$requested" != restart ] || { requested=; cc_done "$name" "$request" restarted; }
		continue
	fi
	[ "$requested" = restart ] || break
	requested=
	restarts=$((restarts + 1))
	say "exited with status $status for the restart; starting again"
	cc_record "$name" "$instance" running "$restarts"
	cc_done "$name" "$request" restarted
done
if [ "$requested" = stop ]; then
	say "stopped from another session (request $request); exit status 143"
	status=143
elif [ "$status" -ne 0 ]; then
	cc_exited "$name" "$status"
fi
if [ -n "${COMMANDCENTER_WORKER:-}" ] && [ -z "$settled" ] && [ -z "$requested" ] && [ "$status" -le 125 ]; then
	echo "[commandcenter] $name exited by itself with status $status before its start passed its health check: a worker must keep running; not retried, as it would exit the same way again" >&4
	status=78
fi
kill -s KILL "$watcher" 2>/dev/null || :
rm -f "$requests"
cc_record "$name" "$instance" exited "$restarts"
[ "$requested" != stop ] || cc_done "$name" "$request" stopped
exec 3>&- 4>&-
# shellcheck disable=SC2086 # two pids
wait $copiers
exit "$status"
