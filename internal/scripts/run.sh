#!/bin/sh
# commandcenter-run NAME COMMAND [ARG...]
# Takes the project's lock for service NAME (see commandcenter-lock), so a
# second instance of it, from another engine session or another definition,
# exits 75 at once instead of sharing its volumes. Then runs COMMAND, with
# umask 077, and copies its stdout and stderr to the container's and to
# $COMMANDCENTER_LOG_DIR/NAME.log, a per-project volume from which the
# module's Logs function reads them back. It exits with COMMAND's status only
# once the copies hold COMMAND's last line, so a crash at start is logged.
# Stop signals reach COMMAND: the engine signals the whole process group,
# and a signal sent to this shell alone is passed on.
set -eu
name=$1
shift
umask 077
. commandcenter-lock
cc_lock "$name"
cc_record "$name"
log=$cc_dir/$name.log
max_bytes=${COMMANDCENTER_LOG_MAX_BYTES:-10485760}
if [ -f "$log" ] && [ "$(($(wc -c <"$log")))" -gt "$max_bytes" ]; then
	mv -f "$log" "$log.1"
fi
pipes=$(mktemp -d)
mkfifo "$pipes/out" "$pipes/err"
# The copiers ignore stop signals: they end when the pipes close, after
# COMMAND's last line.
(trap '' HUP INT QUIT TERM; exec tee -a "$log" <"$pipes/out") &
(trap '' HUP INT QUIT TERM; exec tee -a "$log" <"$pipes/err" >&2) &
exec 3>"$pipes/out" 4>"$pipes/err"
rm -rf "$pipes"
echo "[commandcenter] $name starting as $(id)" >&3
"$@" >&3 2>&4 3>&- 4>&- &
child=$!
exec 3>&- 4>&-
for sig in HUP INT QUIT TERM; do
	trap "kill -s $sig $child 2>/dev/null || :" "$sig"
done
status=0
wait "$child" || status=$?
# A trapped signal interrupts wait; wait again until COMMAND has exited.
while kill -0 "$child" 2>/dev/null; do
	status=0
	wait "$child" || status=$?
done
wait
exit "$status"
