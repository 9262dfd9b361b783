#!/bin/sh
# commandcenter-pg-template make DIR | password PID
# make DIR: makes in DIR, in a build step that names no project (the engine
#   caches it per image and settings), the cluster every new project of
#   those starts from: the image's own initdb (docker-ensure-initdb.sh) with
#   a throwaway password, commandcenter-pg-setup (the app's role no
#   superuser, the extensions, the setup recorded), then the app's role left
#   without a password. The template holds no secret of any project.
# password: gives the app's role ($POSTGRES_USER) of the cluster in $PGDATA,
#   copied from the template, the first line of $POSTGRES_PASSWORD_FILE as
#   its password, as initdb's --pwfile does, then removes
#   $COMMANDCENTER_PG_ROLE_PENDING_FILE, for which postgres's health check
#   waits. commandcenter-postgres starts it beside the server, whose PID
#   it is given: it waits (at most 5 minutes, the start period, and only
#   while that server runs) for the server to accept connections on its
#   local socket, and connects as the module's superuser there. Until then the role has no password, so nobody logs in with it.
#   The server reads the password from its file: it is never part of a
#   statement, an argument or a log. On failure it says why and stops the
#   server (fast shutdown), so that the start fails at once.
set -eu
su=$COMMANDCENTER_PG_SUPERUSER

# single SQL: runs the one-line SQL as the module's superuser in
# single-user mode, which exits 0 even when a statement fails: its ERROR
# line fails this instead.
single() {
	out=$(printf '%s\n' "$1" | postgres --single -D "$PGDATA" "$su" 2>&1 >/dev/null) || { echo "$out" >&2; return 1; }
	case $out in *ERROR:* | *FATAL:*) echo "$out" >&2; return 1 ;; esac
}

case $1 in
make)
	export PGDATA=$2
	pw=$(mktemp)
	LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 40 >"$pw"
	POSTGRES_PASSWORD_FILE=$pw docker-ensure-initdb.sh >/dev/null
	rm -f "$pw"
	# on failure, the setup's own message last, after the server's log
	if ! commandcenter-pg-setup 2>"$PGDATA.log"; then
		grep -v '^\[commandcenter\]' "$PGDATA.log" >&2 || :
		grep '^\[commandcenter\]' "$PGDATA.log" >&2
		exit 78
	fi
	single "alter role \"$POSTGRES_USER\" password null"
	;;
password)
	say() { echo "[commandcenter] postgres: $*" >&2; }
	server=$2
	tries=0
	until pg_isready -q -d postgres; do
		kill -0 "$server" 2>/dev/null || exit 1
		tries=$((tries + 1))
		if [ "$tries" -gt 3000 ]; then
			say "the server did not accept connections on its local socket within 5 minutes: the app's role has no password yet; the next start gives it"
			exit 1
		fi
		sleep 0.1
	done
	sql="do \$\$ begin execute format('alter role %I password %L', '$POSTGRES_USER', split_part(pg_read_file('$POSTGRES_PASSWORD_FILE'), E'\\n', 1)); end \$\$"
	if ! out=$(psql -XqtA -v ON_ERROR_STOP=1 -U "$su" -d postgres -c "$sql" 2>&1); then
		say "could not give the app's role $POSTGRES_USER its password: $out; stopping the server"
		pg_ctl -D "$PGDATA" -m fast stop >/dev/null 2>&1 || :
		exit 1
	fi
	rm -f "$COMMANDCENTER_PG_ROLE_PENDING_FILE"
	;;
*)
	echo "usage: commandcenter-pg-template make DIR | password PID" >&2
	exit 2
	;;
esac
