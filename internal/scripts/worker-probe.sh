#!/bin/sh
# commandcenter-worker-probe NAME PROBE COMMAND [ARG...]
# Runs COMMAND, a worker's process, in place, beside a loop that runs PROBE
# with sh and the worker's environment: at once, then every 2 s until it
# first passes, then every 30 s; each run is bounded to 20 s. The last
# result is in $COMMANDCENTER_LOG_DIR/NAME.probe: pid (COMMAND's), instance
# (its supervisor's), state (passing or failing), at and at_ms (the
# machine's uptime), and message (PROBE's last line of output),
# which commandcenter-alive and Status read. The loop is in COMMAND's
# process group, which its supervisor (commandcenter-run) ends with it, and
# it ends by itself once COMMAND is gone.
set -eu
. commandcenter-lock
name=$1
probe=$2
shift 2
pid=$$
(
	interval=2
	while kill -0 "$pid" 2>/dev/null; do
		state=failing
		if out=$(timeout 20 sh -c "$probe" 2>&1 </dev/null); then
			state=passing
			interval=30
		fi
		message=$(printf '%s\n' "$out" | tr -d '\r' | sed '/^[[:space:]]*$/d' | tail -n 1 | cut -c1-300)
		cc_write "$cc_dir/$name.probe" "pid=$pid" "instance=${COMMANDCENTER_INSTANCE:-}" "state=$state" \
			"at=$(cc_now)" "at_ms=$(cc_uptime_ms)" "message=$message"
		sleep "$interval"
	done
) </dev/null >/dev/null 2>&1 &
exec "$@"
