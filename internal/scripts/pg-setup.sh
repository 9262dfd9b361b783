#!/bin/sh
# commandcenter-pg-setup
# Run by commandcenter-postgres under the postgres lock, before the server
# serves anyone. When the setup recorded in $PGDATA/commandcenter/setup is
# not this start's (a new cluster, a cluster made before the module had a
# superuser of its own, another --postgres-extensions, another C library),
# it starts a temporary server on a private socket only and, as the
# module's superuser:
#   - makes the app's role ($POSTGRES_USER) a role that is no superuser: a
#     cluster whose app role is the superuser initdb made has that role
#     renamed to $COMMANDCENTER_PG_SUPERUSER (without a password: it logs
#     in over the local socket only) and a new app role of the same name
#     and password hash, which then owns the app's database and its objects;
#   - creates each of $COMMANDCENTER_PG_EXTENSIONS in the app's database
#     and in template1 (restore --dump's scratch database is made from it);
#     an extension the image lacks stops the start (exit 78);
#   - rebuilds the app database's indexes (REINDEX) when its collation
#     comes from the C library, and the library (glibc, musl) differs from
#     the one recorded, or none was;
# then records this setup. With a store, the temporary server keeps its WAL
# for the archive (archive_mode=on without a command), which the server
# archives once it runs.
set -eu
. commandcenter-lock
app=$POSTGRES_USER
db=$POSTGRES_DB
su=$COMMANDCENTER_PG_SUPERUSER
extensions=${COMMANDCENTER_PG_EXTENSIONS:-}
record=$PGDATA/commandcenter/setup
say() { echo "[commandcenter] postgres: $*" >&2; }

libc=glibc
if ls /lib/ld-musl-* >/dev/null 2>&1; then libc=musl; fi
want="roles=1
extensions=$extensions
libc=$libc"
[ "$(cat "$record" 2>/dev/null)" != "$want" ] || exit 0
old_libc=$(cc_field "$record" libc)

socket=$(mktemp -d)
archive=
[ -z "${COMMANDCENTER_STORE:-}" ] || archive="-c archive_mode=on -c archive_command="
began=$(cc_uptime_ms)
pg_ctl -D "$PGDATA" -w -t 3600 -l "$socket/log" \
	-o "-c listen_addresses= -c unix_socket_directories=$socket $archive" start >/dev/null
stop() { pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null || :; cat "$socket/log" >&2; rm -rf "$socket"; }
trap stop EXIT
# as ROLE [DB] SQL: runs SQL as ROLE in DB (default: the app's).
as() {
	role=$1
	shift
	target=$db
	[ $# -eq 1 ] || { target=$1; shift; }
	psql -h "$socket" -U "$role" -d "$target" -XqtA -v ON_ERROR_STOP=1 -c "$1"
}
# own FROM TO: a DO block that gives TO what FROM owns in the database,
# apart from the system's schemas and the extensions' own objects: schemas,
# tables, views, sequences (a column's follow its table), routines, types,
# domains and large objects.
own() {
	cat <<EOF
do \$\$ declare
	src oid := (select oid from pg_roles where rolname = '$1');
	r record;
begin
	for r in
		select format('alter schema %I owner to %I', nspname, '$2') q from pg_namespace n
		where nspowner = src and nspname !~ '^pg_' and nspname <> 'information_schema' and $(member pg_namespace n.oid)
		union all
		select format('alter %s %s owner to %I', case relkind when 'v' then 'view' when 'm' then 'materialized view'
			when 'f' then 'foreign table' else 'table' end, c.oid::regclass, '$2') from pg_class c
		where relowner = src and relkind in ('r', 'p', 'v', 'm', 'f') and $(system c.relnamespace) and $(member pg_class c.oid)
		union all
		select format('alter routine %s owner to %I', p.oid::regprocedure, '$2') from pg_proc p
		where proowner = src and $(system p.pronamespace) and $(member pg_proc p.oid)
		union all
		select format('alter %s %s owner to %I', case typtype when 'd' then 'domain' else 'type' end, t.oid::regtype, '$2')
		from pg_type t left join pg_class c on c.oid = t.typrelid
		where typowner = src and $(system t.typnamespace) and $(member pg_type t.oid)
			and (typtype in ('d', 'e', 'r') or (typtype = 'c' and c.relkind = 'c'))
		union all
		select format('alter large object %s owner to %I', oid, '$2') from pg_largeobject_metadata where lomowner = src
	loop
		execute r.q;
	end loop;
	for r in
		select format('alter sequence %s owner to %I', c.oid::regclass, '$2') q from pg_class c
		where relowner = src and relkind = 'S' and $(system c.relnamespace) and $(member pg_class c.oid)
	loop
		execute r.q;
	end loop;
end \$\$
EOF
}
# system NAMESPACE: SQL that is true outside the system's schemas.
system() { echo "$1::regnamespace::text !~ '^(pg_|information_schema\$)'"; }
# member CATALOG OID: SQL that is true unless OID belongs to an extension.
member() { echo "not exists (select from pg_depend d where d.classid = '$1'::regclass and d.objid = $2 and d.deptype = 'e')"; }

# A restored copy replays its WAL first, read-only until it is done.
while :; do
	recovering=$(as "$app" 'select pg_is_in_recovery()')
	[ "$recovering" = t ] || break
	sleep 0.2
done

bootstrap=$(as "$app" 'select rolname from pg_roles where oid = 10')
if [ "$bootstrap" = "$app" ]; then
	if [ -n "$(as "$app" "select 1 from pg_roles where rolname = '$su'")" ]; then
		say "the app's role $app is the superuser, and a role $su exists beside it: the module cannot make its own superuser. Rename $su (ALTER ROLE $su RENAME TO ...) and start again. Nothing was changed."
		exit 78
	fi
	say "the app's role $app is a superuser: converting it to a role that owns the database and is no superuser, with the same password; the module's superuser becomes $su"
	as "$app" "do \$\$ begin if not exists (select from pg_roles where rolname = 'commandcenter_setup') then create role commandcenter_setup superuser login; end if; end \$\$"
	as commandcenter_setup "do \$\$ declare pw text := (select rolpassword from pg_authid where rolname = '$app'); begin
		alter role \"$app\" rename to \"$su\";
		execute format('create role %I login password %L', '$app', pw);
		alter role \"$su\" password null;
	end \$\$"
fi
as "$su" postgres "drop role if exists commandcenter_setup"
as "$su" "alter role \"$app\" nosuperuser nocreaterole noreplication nobypassrls createdb login"
as "$su" "revoke pg_read_server_files, pg_write_server_files, pg_execute_server_program from \"$app\"" 2>/dev/null
as "$su" "alter database \"$db\" owner to \"$app\""
as "$su" "$(own "$su" "$app")"
if ! grep -q "^host all $su all reject" "$PGDATA/pg_hba.conf"; then
	sed -i "1i host all $su all reject" "$PGDATA/pg_hba.conf"
fi

for ext in $extensions; do
	for target in "$db" template1; do
		if ! as "$su" "$target" "create extension if not exists \"$ext\"" 2>"$socket/ext"; then
			say "the extension $ext is not in --postgres-image ${COMMANDCENTER_PG_IMAGE:-}: $(tail -n 1 "$socket/ext"). Use an image that has it (pgvector/pgvector:pg16 has vector), or leave it out of --postgres-extensions. The database was not changed."
			exit 78
		fi
	done
done

collate=$(as "$su" "select datcollate from pg_database where datname = '$db'")
case $collate in
C | POSIX) ;;
*)
	if [ "$old_libc" != "$libc" ]; then
		say "the database's collation $collate comes from the C library, which is now $libc (it was ${old_libc:-not recorded}): rebuilding its indexes (REINDEX) before the app connects"
		as "$su" "reindex database \"$db\""
	fi
	;;
esac
mkdir -p "$PGDATA/commandcenter"
printf '%s\n' "$want" >"$record.tmp"
mv -f "$record.tmp" "$record"
say "setup done in $(($(cc_uptime_ms) - began)) ms: role $app owns database $db and is no superuser; extensions: ${extensions:-none}"
