package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// dumpPath is where a dump is written or read inside a client container.
const dumpPath = "/tmp/commandcenter.dump"

// A pg_dump of the project's database, in pg_dump's custom format (pg_restore reads it).
//
// It is taken from the project's running postgres, whichever engine
// session runs it, or from one started in this session for the purpose.
// Rows, sequences and the schema are all in it. Save it with
// `dagger call backup export --path db.dump`: the file is readable by its
// owner only. One engine session takes one backup of a project, however
// often the file is used in it: a new session takes a new one.
//
// +cache="session"
func (m *Commandcenter) Backup(ctx context.Context) (*dagger.File, error) {
	dump, err := m.dump(ctx)
	var execErr *dagger.ExecError
	if errors.As(err, &execErr) && execErr.ExitCode == stack.ExitNotRunning {
		if _, err := m.serve(ctx, stack.Postgres); err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		dump, err = m.dump(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("backup: pg_dump: %w", withStderr(err))
	}
	return dump, nil
}

// dump runs pg_dump against the running postgres at the address it
// recorded (commandcenter-probe), and fails with exit 3 when none runs.
func (m *Commandcenter) dump(ctx context.Context) (*dagger.File, error) {
	c := m.prober(stack.Postgres).
		WithEnvVariable("COMMANDCENTER_BACKUP_AT", now()).
		WithExec([]string{stack.Script("probe"), string(stack.Postgres), "sh", "-c", withPGPassword +
			`umask 077 && pg_dump -h "$HOST" -U ` + stack.DBUser + ` -d ` + stack.DBName + ` --format=custom --file "$1"`, "sh", dumpPath})
	if _, err := c.Sync(ctx); err != nil {
		return nil, err
	}
	return c.File(dumpPath), nil
}

// Replace the project's database with a dump made by Backup (or pg_dump --format=custom).
//
// The dump is checked first, then restored into a scratch database, which
// takes the database's place only once the whole dump is in: a file that is
// not a dump, or one that fails half-way, leaves the database as it was.
// The backend and the frontend are stopped first and started again after
// (a running stack proxy exits with them). A dump from an older PostgreSQL
// major may be restored with a newer --postgres-image: that moves the
// project to the new major, and the old major's volume is left as it was.
//
// With a store, --from-store [--time T] brings the database back from the
// store instead: to its latest archived WAL, or to the point in time T. The
// project must be stopped. What this engine's copy holds that the store
// lacks is pushed to the store first (nothing changes when the store does
// not take it). The store's range is checked next: a time outside it is
// refused, with the range, and nothing changes. Then this engine's copy
// of the database is dropped, and the next start restores
// it: `dagger call restore --from-store --time 2026-12-01T10:00:00Z stack up`.
// The store keeps every archived write, also those after T.
//
// +cache="never"
func (m *Commandcenter) Restore(
	ctx context.Context,
	// The dump, e.g. --dump db.dump.
	// +optional
	dump *dagger.File,
	// Restore from the project's store (--store) instead of a dump.
	// +optional
	fromStore bool,
	// With --from-store: the point in time to restore to, RFC 3339, e.g.
	// 2026-12-01T10:00:00Z. Default: the latest archived WAL.
	// +optional
	time string,
) (*Commandcenter, error) {
	switch {
	case fromStore && dump != nil:
		return nil, errors.New("restore takes --dump or --from-store, not both")
	case fromStore:
		if err := m.restoreFromStore(ctx, time); err != nil {
			return nil, err
		}
		return m, nil
	case time != "":
		return nil, errors.New("--time needs --from-store: a dump restores the moment it was taken")
	case dump == nil:
		return nil, errors.New("restore needs --dump FILE (made by `dagger call backup`), or --from-store with a store")
	}
	if err := m.checkDump(ctx, dump); err != nil {
		return nil, err
	}
	dependents := stack.Dependents(stack.Postgres)
	containers, err := m.containers(ctx, append([]stack.Service{stack.Postgres}, dependents...))
	if err != nil {
		return nil, err
	}
	if err := m.adoptEmptyCluster(ctx); err != nil {
		return nil, err
	}
	if err := stopInOrder(ctx, reversed(dependents), containers); err != nil {
		return nil, err
	}
	pg := containers[stack.Postgres].AsService()
	if err := m.start(ctx, stack.Postgres, pg); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := m.restoreInto(ctx, pg, dump); err != nil {
		return nil, err
	}
	for _, s := range dependents {
		if err := m.start(ctx, s, containers[s].AsService()); err != nil {
			return nil, fmt.Errorf("restore: the database is restored, but: %w", err)
		}
	}
	return m, nil
}

// checkDump fails, before anything changes, unless pg_restore can read dump.
func (m *Commandcenter) checkDump(ctx context.Context, dump *dagger.File) error {
	_, err := dag.Container().
		From(m.Settings.Images.Postgres).
		WithUser(stack.User(stack.Postgres)).
		WithMountedFile(dumpPath, dump, dagger.ContainerWithMountedFileOpts{Owner: stack.User(stack.Postgres)}).
		WithExec([]string{"pg_restore", "--list", dumpPath}).
		Sync(ctx)
	var execErr *dagger.ExecError
	if errors.As(err, &execErr) {
		return fmt.Errorf("--dump is not a dump that pg_restore of %s can read (%s): make one with `dagger call backup`; the database was not changed",
			m.Settings.Images.Postgres, stack.Summary(execErr.Stderr))
	}
	if err != nil {
		return fmt.Errorf("read --dump: %w", err)
	}
	return nil
}

// adoptEmptyCluster lets this image's major take the project's database
// over when its data volume is empty (internal/scripts/pg-adopt.sh), so a
// restore can move a project to a new major.
func (m *Commandcenter) adoptEmptyCluster(ctx context.Context) error {
	major, err := m.postgresMajor(ctx)
	if err != nil {
		return err
	}
	_, err = m.reader(stack.Postgres).
		With(withScripts("lock", "pg-adopt")).
		With(m.withPGData(major)).
		WithEnvVariable("PGDATA", stack.PGData).
		WithEnvVariable("COMMANDCENTER_PROJECT", m.Project).
		WithEnvVariable("COMMANDCENTER_PG_MAJOR", major).
		WithEnvVariable("COMMANDCENTER_ADOPT_AT", now()).
		WithExec([]string{stack.Script("pg-adopt")}).
		Sync(ctx)
	if err != nil {
		return fmt.Errorf("restore: %w", withStderr(err))
	}
	return nil
}

// restoreInto restores dump into a scratch database of the running pg,
// then swaps it in for the project's database in one transaction.
func (m *Commandcenter) restoreInto(ctx context.Context, pg *dagger.Service, dump *dagger.File) error {
	_, err := m.prober(stack.Postgres).
		WithServiceBinding("postgres", pg).
		WithMountedFile(dumpPath, dump, dagger.ContainerWithMountedFileOpts{Owner: stack.User(stack.Postgres)}).
		WithEnvVariable("COMMANDCENTER_RESTORE_AT", now()).
		WithExec([]string{"sh", "-c", withPGPassword + restoreScript, "sh", dumpPath}).
		Sync(ctx)
	var execErr *dagger.ExecError
	if errors.As(err, &execErr) {
		if failed := stack.RestoreFailed(execErr.ExitCode, execErr.Stderr); failed != nil {
			return failed
		}
	}
	if err != nil {
		return fmt.Errorf("restore: %w", withStderr(err))
	}
	return nil
}

// withPGPassword exports PGPASSWORD from $PASSWORD_FILE inside the
// client's shell: the password never enters the container's definition.
const withPGPassword = `PGPASSWORD=$(cat "$PASSWORD_FILE") && export PGPASSWORD && `

// restoreScript restores the dump at $1 into commandcenter_restore, as the
// app's role, which then owns what it restores; exit
// stack.ExitRestoreFailed means pg_restore failed and the scratch database was dropped. Then the
// restored database takes the place of commandcenter, whose connections
// are closed first, and the replaced one is dropped.
var restoreScript = strings.NewReplacer("{db}", stack.DBName, "{role}", stack.DBUser,
	"{failed}", strconv.Itoa(stack.ExitRestoreFailed)).Replace(`set -e
q() { psql -h postgres -U {role} -d postgres -v ON_ERROR_STOP=1 -qc "$1"; }
q 'DROP DATABASE IF EXISTS {db}_restore'
q 'CREATE DATABASE {db}_restore'
# Extensions belong to the module's superuser, which made them in template1:
# the dump's CREATE EXTENSION IF NOT EXISTS finds them, and its COMMENT ON
# EXTENSION, which only their owner may run, is left out.
list=$(mktemp)
pg_restore --list "$1" | grep -v '^[0-9]*; [0-9]* [0-9]* COMMENT - EXTENSION ' >"$list"
if ! pg_restore -h postgres -U {role} -d {db}_restore --no-owner --no-acl --exit-on-error --use-list="$list" "$1"; then
	q 'DROP DATABASE {db}_restore'
	exit {failed}
fi
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}' AND pid <> pg_backend_pid()" >/dev/null
psql -h postgres -U {role} -d postgres -v ON_ERROR_STOP=1 -q <<'SQL'
BEGIN;
ALTER DATABASE {db} RENAME TO {db}_replaced;
ALTER DATABASE {db}_restore RENAME TO {db};
COMMIT;
SQL
q 'DROP DATABASE {db}_replaced'`)
