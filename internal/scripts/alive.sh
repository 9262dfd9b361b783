#!/bin/sh
# commandcenter-alive NAME SECONDS [probe]
# The health check of a worker, run in its container: passes once the
# process that its supervisor (commandcenter-run) started last is alive and
# has run for SECONDS; with "probe", once its probe (see
# commandcenter-worker-probe) has also passed for that process. The records
# are on the run volume, which outlives the container: a record written
# before this container's first process started is an earlier container's,
# whose pid may be that of another process here, and does not count. Once
# it passes, it notes in NAME.settled that the start of this instance (the
# supervisor's, in NAME.run) is over: from then on, the supervisor starts
# the worker again when it exits.
set -eu
. commandcenter-lock
pid=$(cc_field "$cc_dir/$1.child" pid)
at=$(cc_field "$cc_dir/$1.child" at_ms)
if [ -z "$pid" ] || [ -z "$at" ] || ! kill -0 "$pid" 2>/dev/null; then
	exit 1
fi
# This container's first process: its start, in clock ticks (USER_HZ, 100
# per second) since boot, as /proc/uptime counts.
born=$(sed 's/.*) //' /proc/1/stat | awk '{ printf "%d\n", $20 * 10 }')
[ "$at" -ge "$born" ] || exit 1
[ $(($(cc_uptime_ms) - at)) -ge $(($2 * 1000)) ]
if [ "${3:-}" = probe ]; then
	probed=$(cc_field "$cc_dir/$1.probe" at_ms)
	if [ "$(cc_field "$cc_dir/$1.probe" pid)" != "$pid" ] || [ "${probed:-0}" -lt "$at" ] ||
		[ "$(cc_field "$cc_dir/$1.probe" state)" != passing ]; then
		echo "the probe of $1 has not passed: $(cc_field "$cc_dir/$1.probe" message)" >&2
		exit 1
	fi
fi
instance=$(cc_field "$cc_dir/$1.run" instance)
[ "$(cc_field "$cc_dir/$1.settled" instance)" = "$instance" ] || cc_write "$cc_dir/$1.settled" "instance=$instance"
