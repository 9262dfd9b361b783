#!/bin/sh
# commandcenter-pg-family USER
# Run as root before the project's postgres starts. The engine keys a
# volume on its owner's uid, and the two families of postgres images run
# their server as different uids (Alpine 70, Debian 999), so a project
# whose image changes family finds its own volumes empty. Each family's
# volumes of the project are mounted under $COMMANDCENTER_PG_FAMILIES/UID
# (data, logs, and db when the password is generated). When this image's
# data directory ($PGDATA, owned by USER) holds no cluster and another
# family's does, it copies that family's volumes to this image's ones, owned
# by USER, the cluster's PG_VERSION last (a copy cut short is redone at the
# next start), and marks the old cluster as moved (PG_VERSION.moved and a
# MOVED note), so that a later start with the old image copies it back
# instead of serving a stale copy. Nothing is deleted but files of a data
# directory without PG_VERSION, which no server can use. A server of the
# other family that still runs stops it (exit 75).
set -eu
user=$1
families=$COMMANDCENTER_PG_FAMILIES
uid=$(id -u "$user")
owner=$uid:$(id -g "$user")
db=${COMMANDCENTER_DB_SECRET_DIR:-}
say() { echo "[commandcenter] postgres: $*" >&2; }

[ ! -s "$PGDATA/PG_VERSION" ] || exit 0
for old in "$families"/*; do
	[ "${old##*/}" != "$uid" ] && [ -s "$old/data/PG_VERSION" ] || continue
	lock=$old/logs/postgres.lock
	[ -e "$lock" ] || { : >"$lock" && chown "${old##*/}:${old##*/}" "$lock"; }
	exec 8>>"$lock"
	if ! flock -n 8; then
		say "project \"$COMMANDCENTER_PROJECT\" runs its postgres with an image whose postgres user is uid ${old##*/}, and --postgres-image ${COMMANDCENTER_PG_IMAGE:-} runs it as uid $uid: stop it first (\`dagger call --project $COMMANDCENTER_PROJECT stop\`), then start again. Nothing was changed."
		exit 75
	fi
	say "project \"$COMMANDCENTER_PROJECT\": its database was made by an image whose postgres user is uid ${old##*/}; --postgres-image ${COMMANDCENTER_PG_IMAGE:-} runs it as uid $uid: copying it ($(du -sh "$old/data" | cut -f1)) to this image's volumes before the server starts; the old volumes are kept, marked as moved"
	find "$PGDATA" -mindepth 1 -delete
	cp -a "$old/logs/." "$COMMANDCENTER_LOG_DIR/"
	if [ -n "$db" ] && [ -d "$old/db" ]; then cp -a "$old/db/." "$db/"; fi
	for f in "$old/data"/* "$old/data"/.[!.]*; do
		[ ! -e "$f" ] || [ "$f" = "$old/data/PG_VERSION" ] || cp -a "$f" "$PGDATA/"
	done
	chown -R "$owner" "$PGDATA" "$COMMANDCENTER_LOG_DIR" ${db:+"$db"}
	chmod 700 "$PGDATA"
	cp -p "$old/data/PG_VERSION" "$PGDATA/PG_VERSION.new"
	chown "$owner" "$PGDATA/PG_VERSION.new"
	mv "$PGDATA/PG_VERSION.new" "$PGDATA/PG_VERSION"
	mv "$old/data/PG_VERSION" "$old/data/PG_VERSION.moved"
	echo "This cluster moved to the volumes of uid $uid at $(date -u +%Y-%m-%dT%H:%M:%SZ); a start with an image whose postgres user is uid ${old##*/} copies it back." >"$old/data/MOVED"
	exit 0
done
