#!/bin/sh
# commandcenter-alive NAME SECONDS
# The health check of a worker, run in its container: passes once the
# process that its supervisor (commandcenter-run) started last is alive and
# has run for SECONDS.
set -eu
. commandcenter-lock
pid=$(cc_field "$cc_dir/$1.child" pid)
at=$(cc_field "$cc_dir/$1.child" at_ms)
if [ -z "$pid" ] || [ -z "$at" ] || ! kill -0 "$pid" 2>/dev/null; then
	exit 1
fi
[ $(($(cc_uptime_ms) - at)) -ge $(($2 * 1000)) ]
