package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"dagger/tests/internal/dagger"
)

// Projects made before the current defaults: on postgres:16-alpine, and
// with the app's role as the cluster's superuser.

// defaultPostgresImage is the module's default --postgres-image.
const defaultPostgresImage = "pgvector/pgvector:pg16"

// notesSetup makes 500 rows and a text index on them.
const notesSetup = `create table notes (id serial primary key, body text not null);
insert into notes (body) select 'note-' || g from generate_series(1, 500) g;
create index notes_body on notes (body)`

// A project made on postgres:16-alpine, with rows and a text index, started on the default image: its rows are there and the index answers as a scan does.
//
// In the lab both images are Debian stand-ins (glibc), so this proves the
// change of the postgres user's uid (70 to 999, which gives the Debian
// image other volumes) and not a change of C library.
//
// +check
func (m *Tests) FamilySwitchKeepsRowsAndIndex(ctx context.Context) error {
	project := "family-" + nonce()
	alpine := withPasswords(fixture(project))
	alpine.PostgresImage = postgresImage
	alpine.PostgresExtensions = []string{""}
	old := dag.Commandcenter(alpine)
	next := dag.Commandcenter(withPasswords(fixture(project)))
	err := familySwitch(ctx, old, next, project)
	return errors.Join(err, stop(ctx, next), reset(ctx, next), stop(ctx, old), reset(ctx, old))
}

func familySwitch(ctx context.Context, old, next *dagger.Commandcenter, project string) error {
	if _, err := psql(ctx, old, dbPassword(project), notesSetup); err != nil {
		return fmt.Errorf("rows on %s: %w", postgresImage, err)
	}
	if err := stop(ctx, old); err != nil {
		return err
	}
	return checkNotes(ctx, next, project, "on "+defaultPostgresImage)
}

// checkNotes checks notesSetup's rows, and that a query through the index
// finds the rows a scan finds.
func checkNotes(ctx context.Context, cc *dagger.Commandcenter, project, when string) error {
	const where = "from notes where body between 'note-1' and 'note-2'"
	viaIndex, err := psql(ctx, cc, dbPassword(project), "set enable_seqscan = off; explain select count(*) "+where+"; select count(*) "+where)
	if err != nil {
		return fmt.Errorf("query %s: %w", when, err)
	}
	scan, err := psql(ctx, cc, dbPassword(project), "set enable_indexscan = off; set enable_bitmapscan = off; select count(*) "+where+"; select count(*) from notes")
	if err != nil {
		return err
	}
	if !strings.Contains(viaIndex, "notes_body") {
		return fmt.Errorf("plan %s: wanted the index notes_body, got %q", when, viaIndex)
	}
	counted := viaIndex[strings.LastIndex(viaIndex, "\n")+1:]
	lines := strings.Split(scan, "\n")
	scan = strings.Join(lines[max(len(lines)-2, 0):], "\n") // after the SET tags
	// 'note-1', 'note-10'..'note-199' and 'note-2' sort between the bounds
	if want := "112\n500"; scan != want || counted != "112" {
		return fmt.Errorf("rows %s: wanted 112 of 500 by a scan and by the index, got %q by a scan and %q by the index", when, scan, counted)
	}
	return nil
}

// A project made before the app's role stopped being a superuser is converted at its start: its rows are kept, the app connects with its old password, and it is no superuser.
//
// The old layout is made as the module made it then: the image's own
// docker-ensure-initdb.sh with POSTGRES_USER=commandcenter, which makes
// that role the bootstrap superuser, with the image's default collation
// (en_US.utf8 from the C library), on the project's volume, in the
// module's postgres container; then rows written by that superuser.
//
// +check
func (m *Tests) OldSuperuserProjectIsConverted(ctx context.Context) error {
	project := "convert-" + nonce()
	cc := dag.Commandcenter(withPasswords(fixture(project)))
	err := convert(ctx, cc, project)
	return errors.Join(err, stop(ctx, cc), reset(ctx, cc))
}

func convert(ctx context.Context, cc *dagger.Commandcenter, project string) error {
	if err := oldLayout(ctx, cc); err != nil {
		return err
	}
	if err := checkNotes(ctx, cc, project, "after the conversion"); err != nil {
		return err
	}
	got, err := psql(ctx, cc, dbPassword(project), `select rolsuper::text || ',' || (select tableowner from pg_tables where tablename = 'notes')
from pg_roles where rolname = current_user; insert into notes (body) values ('after')`)
	if err != nil {
		return fmt.Errorf("the old password after the conversion: %w", err)
	}
	if got = strings.Split(got, "\n")[0]; got != "false,commandcenter" {
		return fmt.Errorf("rolsuper and the owner of notes after the conversion: wanted false,commandcenter, got %q", got)
	}
	return nil
}

// oldLayout makes project's cluster as the module did before its app role
// stopped being a superuser, with notesSetup's rows. It runs in the
// module's own postgres container, whose data volume is the project's (a
// cache volume belongs to the module that names it).
func oldLayout(ctx context.Context, cc *dagger.Commandcenter) error {
	_, err := cc.Container("postgres").
		WithoutEnvVariable("POSTGRES_INITDB_ARGS").
		WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"sh", "-c", `set -e
docker-ensure-initdb.sh
pg_ctl -w -o "-c listen_addresses= -c unix_socket_directories=/tmp" start
psql -h /tmp -U commandcenter -d commandcenter -v ON_ERROR_STOP=1 -c "$1"
[ "$(psql -h /tmp -U commandcenter -d commandcenter -tAc 'select rolsuper from pg_roles where rolname = current_user')" = t ]
pg_ctl -w -m fast stop`, "sh", notesSetup}).
		Sync(ctx)
	if err != nil {
		return fmt.Errorf("make the old layout: %w", explain(err))
	}
	return nil
}
