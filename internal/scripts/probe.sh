#!/bin/sh
# commandcenter-probe NAME COMMAND [ARG...]
# Runs COMMAND with HOST set to the address of the project's running
# instance of service NAME, whichever engine session runs it (see
# commandcenter-lock). Exits 3, saying so, when none runs. It only reads: the
# shared lock it tests lasts an instant.
set -eu
. commandcenter-lock
name=$1
shift
if ! cc_running "$name"; then
	cc_not_running "$name"
	exit 3
fi
HOST=$(cc_address "$name")
if [ -z "$HOST" ]; then
	echo "running since $(cc_started "$name"), at an unknown address" >&2
	exit 3
fi
export HOST
exec "$@"
