#!/bin/sh
# commandcenter-reset NAME DIR...
# Empties each DIR, the volumes of the project's service NAME, while holding
# NAME's lock: it exits 75 and deletes nothing while an instance of NAME runs.
set -eu
. commandcenter-lock
name=$1
shift
cc_lock "$name"
for dir in "$@"; do
	find "$dir" -mindepth 1 -maxdepth 1 ! -path "$cc_dir/$name.lock" -exec rm -rf {} \;
done
