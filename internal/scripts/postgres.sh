#!/bin/sh
# commandcenter-postgres [SERVER ARG...]
# Initialises the cluster on first start with the image's own
# docker-ensure-initdb.sh, which reads the password from the file named by
# POSTGRES_PASSWORD_FILE, then runs the server. The password never enters
# this script's environment, so the server does not inherit it.
set -eu
if [ -n "${COMMANDCENTER_GENERATE_DB_PASSWORD:-}" ]; then
	commandcenter-secret "$POSTGRES_PASSWORD_FILE" 0444
fi
docker-ensure-initdb.sh
exec postgres "$@"
