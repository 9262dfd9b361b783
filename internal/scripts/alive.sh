#!/bin/sh
# commandcenter-alive NAME SECONDS [probe]
# The health check of a worker, run in its container: passes once the
# process that its supervisor (commandcenter-run) started last is alive and
# has run for SECONDS; with "probe", once its probe (see
# commandcenter-worker-probe) has also passed for that process.
set -eu
. commandcenter-lock
pid=$(cc_field "$cc_dir/$1.child" pid)
at=$(cc_field "$cc_dir/$1.child" at_ms)
if [ -z "$pid" ] || [ -z "$at" ] || ! kill -0 "$pid" 2>/dev/null; then
	exit 1
fi
[ $(($(cc_uptime_ms) - at)) -ge $(($2 * 1000)) ]
[ "${3:-}" = probe ] || exit 0
if [ "$(cc_field "$cc_dir/$1.probe" pid)" != "$pid" ] || [ "$(cc_field "$cc_dir/$1.probe" state)" != passing ]; then
	echo "the probe of $1 has not passed: $(cc_field "$cc_dir/$1.probe" message)" >&2
	exit 1
fi
