#!/bin/sh
# commandcenter-postgres [SERVER ARG...]
# Runs under commandcenter-run, which holds the project's postgres lock: no
# other server uses this data directory. It then
#   - starts over an initdb that a kill interrupted (its data cannot be used);
#   - refuses an empty data directory while the project's database is a
#     cluster of another major version (exit 76), naming the commands that
#     move the data;
#   - initialises the cluster on first start: a copy of the template cluster
#     that the image's layer holds (COMMANDCENTER_PG_TEMPLATE, see
#     commandcenter-pg-template), marked $COMMANDCENTER_PG_ROLE_PENDING_FILE
#     until the server has given the app's role the project's password
#     (commandcenter-pg-template password, started beside the server,
#     again at each start while the mark is there), or, with a
#     store, the image's own docker-ensure-initdb.sh, which reads the
#     password from the file named by POSTGRES_PASSWORD_FILE; and records
#     its major version, and when and
#     by which instance it was made (postgres.initdb), so that the module can
#     say that a start began with a new, empty database;
#   - removes the postmaster.pid a killed server left, which would otherwise
#     stop the server from starting;
#   - sets up the roles and the extensions when needed (commandcenter-pg-setup),
#     before the server serves anyone;
#   - runs the server. The password never enters this script's environment,
#     so the server does not inherit it.
# With a durable store (COMMANDCENTER_STORE), commandcenter-pg-store takes
# the project's lease and restores an empty data directory from the store
# first, and runs the server with WAL archiving.
set -eu
. commandcenter-lock
major=$COMMANDCENTER_PG_MAJOR
marker=$COMMANDCENTER_LOG_DIR/postgres.major
initializing=$COMMANDCENTER_LOG_DIR/postgres.initializing

if [ "$(cat "$initializing" 2>/dev/null)" = "$major" ]; then
	echo "[commandcenter] the last initdb of this PostgreSQL $major cluster was interrupted: starting it again" >&2
	find "$PGDATA" -mindepth 1 -delete
fi
if [ -n "${COMMANDCENTER_STORE:-}" ]; then
	commandcenter-pg-store prepare
elif [ -e "$cc_dir/postgres.store" ]; then
	# The store's archive now has a gap: the next start with the store takes
	# a new base backup at once, from which a restore needs no missing WAL.
	echo "[commandcenter] project \"$COMMANDCENTER_PROJECT\" was archived to the store $(cat "$cc_dir/postgres.store") and starts without it: its writes are in this engine only until it starts with its store flags again, which take a new base backup at once" >&2
	rm -f "$cc_dir/postgres.backup"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
	cluster=$(cat "$marker" 2>/dev/null) || cluster=
	if [ -n "$cluster" ] && [ "$cluster" != "$major" ]; then
		image=$COMMANDCENTER_PG_IMAGE
		case $image in
		*:"$major"*) old=$(printf '%s' "$image" | sed "s/:$major/:$cluster/") ;;
		*) old="<a PostgreSQL $cluster image>" ;;
		esac
		p=$COMMANDCENTER_PROJECT
		cat >&2 <<EOF
project "$p": its database is a PostgreSQL $cluster cluster, and --postgres-image $image is PostgreSQL $major, whose data volume is empty. Nothing was changed. Move the data with a backup from the old version restored into the new one (add your other flags):
  dagger call --project $p --postgres-image $old backup export --path $p-pg$cluster.dump
  dagger call --project $p --postgres-image $image restore --dump $p-pg$cluster.dump
or keep a PostgreSQL $cluster image.
EOF
		exit 76
	fi
	if [ -n "${COMMANDCENTER_GENERATE_DB_PASSWORD:-}" ]; then
		commandcenter-secret "$POSTGRES_PASSWORD_FILE" 0444
	fi
	echo "$major" >"$initializing"
	began=$(cc_uptime_ms)
	made="initdb took"
	if [ -n "${COMMANDCENTER_PG_TEMPLATE:-}" ]; then
		cp -a "$COMMANDCENTER_PG_TEMPLATE/." "$PGDATA/"
		chmod 700 "$PGDATA"
		mkdir -p "$(dirname "$COMMANDCENTER_PG_ROLE_PENDING_FILE")"
		: >"$COMMANDCENTER_PG_ROLE_PENDING_FILE"
		made="cluster copied from the image's template in"
	else
		docker-ensure-initdb.sh
	fi
	rm -f "$initializing"
	echo "[commandcenter] postgres $made $(($(cc_uptime_ms) - began)) ms: project \"$COMMANDCENTER_PROJECT\" starts with a new, empty database" >&2
	cc_write "$cc_dir/postgres.initdb" "at=$(cc_now)" "instance=${COMMANDCENTER_INSTANCE:-}"
fi
echo "$major" >"$marker"
rm -f "$PGDATA/postmaster.pid"
commandcenter-pg-setup
if [ -n "${COMMANDCENTER_STORE:-}" ]; then
	if [ -n "${COMMANDCENTER_GENERATE_SECRET_KEY:-}" ]; then
		commandcenter-secret "$SECRET_KEY_FILE" 0444
	fi
	exec commandcenter-pg-store serve "$@"
fi
if [ -n "${COMMANDCENTER_PG_ROLE_PENDING_FILE:-}" ] && [ -e "$COMMANDCENTER_PG_ROLE_PENDING_FILE" ]; then
	# detached, so that it is not a child of this process, which becomes
	# the postmaster ($$)
	(commandcenter-pg-template password $$ </dev/null &)
fi
exec postgres "$@"
