#!/bin/sh
# commandcenter-run NAME COMMAND [ARG...]
# Runs COMMAND in place of this shell, so it keeps this process ID and gets
# the engine's stop signal itself. Its stdout and stderr still reach the
# container's, and are also appended to $COMMANDCENTER_LOG_DIR/NAME.log, a
# per-project volume from which the module's Logs function reads them back.
set -eu
name=$1
shift
log=${COMMANDCENTER_LOG_DIR:?COMMANDCENTER_LOG_DIR is not set}/$name.log
max_bytes=${COMMANDCENTER_LOG_MAX_BYTES:-10485760}
if [ -f "$log" ] && [ "$(($(wc -c <"$log")))" -gt "$max_bytes" ]; then
	mv -f "$log" "$log.1"
fi
pipes=$(mktemp -d)
mkfifo "$pipes/out" "$pipes/err"
# The copiers ignore stop signals: they end when COMMAND closes the pipes,
# after its last line.
(trap '' HUP INT QUIT TERM; exec tee -a "$log" <"$pipes/out") &
(trap '' HUP INT QUIT TERM; exec tee -a "$log" <"$pipes/err" >&2) &
exec >"$pipes/out" 2>"$pipes/err"
rm -rf "$pipes"
echo "[commandcenter] $name starting as $(id)"
exec "$@"
