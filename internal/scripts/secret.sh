#!/bin/sh
# commandcenter-secret FILE MODE
# Creates FILE with a random 40-character value and the given mode, unless
# FILE already holds one. The value is never printed.
set -eu
file=$1
mode=$2
[ -s "$file" ] && exit 0
umask 077
tmp=$file.tmp.$$
LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 40 >"$tmp"
chmod "$mode" "$tmp"
mv -f "$tmp" "$file"
