#!/bin/sh
# commandcenter-pg-adopt
# Before a restore: when this image's data volume is empty, records its major
# version as the project's, so that the restore may move the project's data
# to a new PostgreSQL major (see commandcenter-postgres). The older major's
# volume is left as it is. Does nothing while postgres runs.
set -eu
. commandcenter-lock
cc_running postgres && exit 0
cc_lock postgres
[ -s "$PGDATA/PG_VERSION" ] || echo "$COMMANDCENTER_PG_MAJOR" >"$cc_dir/postgres.major"
