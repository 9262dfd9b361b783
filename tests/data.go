package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"dagger/tests/internal/crashlog"
	"dagger/tests/internal/dagger"
)

// Data safety: one server per volume, backup, restore, reset, major upgrades.

// notesSQL creates a table with a sequence, a view and rows.
const notesSQL = `CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, body text NOT NULL);
CREATE OR REPLACE VIEW note_bodies AS SELECT body FROM notes;
INSERT INTO notes (body) VALUES ('first'), ('second'), ('third');`

// notesState is what must survive: the rows, the sequence's state and the
// view. It changes nothing, so it reads the same before and after a backup.
const notesState = `SELECT (SELECT string_agg(id || ':' || body, ',' ORDER BY id) FROM notes)
  || ' sequence=' || (SELECT last_value || '/' || is_called FROM notes_id_seq) || ' view=' || (SELECT count(*) FROM note_bodies)`

// A second definition of a running project's postgres (other settings) fails at once, naming the fix, and the first keeps serving every row.
//
// +check
func (m *Tests) SecondServerIsRefused(ctx context.Context) error {
	const project = "one-server"
	return withStack(ctx, withPasswords(fixture(project)), func(cc *dagger.Commandcenter) error {
		row := "kept-" + nonce()
		if _, err := psql(ctx, cc, dbPassword(project), "CREATE TABLE IF NOT EXISTS notes (body text); INSERT INTO notes VALUES ('"+row+"')"); err != nil {
			return err
		}
		opts := withPasswords(fixture(project))
		opts.PostgresMaxConnections = 50
		second := dag.Commandcenter(opts)
		begin := time.Now()
		_, err := second.Postgres().Start(ctx)
		if err == nil {
			return errors.Join(fmt.Errorf("second postgres of project %q: wanted a refusal, got a running server", project), stopPostgres(ctx, second))
		}
		want := `project "` + project + `": postgres is already running (started 20`
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "use another --project") {
			return fmt.Errorf("second postgres: wanted %q and the fix in the error, got %v", want, err)
		}
		if took := time.Since(begin); took > time.Minute || strings.Contains(err.Error(), "attempts") {
			return fmt.Errorf("second postgres: wanted a refusal at once, without retry, got it after %s: %v", took, err)
		}
		out, err := psql(ctx, cc, dbPassword(project), "SELECT count(*) FROM notes WHERE body = '"+row+"'")
		if err != nil || out != "1" {
			return fmt.Errorf("first postgres after the refusal: wanted the row, got %q (%v)", out, err)
		}
		return nil
	})
}

// A postgres killed with SIGKILL, as at the end of a session, starts again as a new instance that recovers from its WAL, with every committed row.
//
// +check
func (m *Tests) HardKillKeepsCommittedRows(ctx context.Context) error {
	const project = "hard-kill"
	return withStack(ctx, withPasswords(fixture(project)), func(cc *dagger.Commandcenter) error {
		row := "committed-" + nonce()
		if _, err := psql(ctx, cc, dbPassword(project), "CREATE TABLE IF NOT EXISTS notes (body text); INSERT INTO notes VALUES ('"+row+"')"); err != nil {
			return err
		}
		if err := killAndStart(ctx, cc, "postgres", cc.Postgres(), crashlog.Postgres); err != nil {
			return err
		}
		out, err := psql(ctx, cc, dbPassword(project), "SELECT count(*) FROM notes WHERE body = '"+row+"'")
		if err != nil || out != "1" {
			return fmt.Errorf("rows after the kill: wanted the committed row, got %q (%v)", out, err)
		}
		return nil
	})
}

// Backup, then Restore into a fresh project, gives identical rows, sequence and schema; the dump is readable by its owner only.
//
// +check
func (m *Tests) BackupRestoreRoundTrip(ctx context.Context) error {
	src, dst := "backup-src", "backup-dst-"+nonce()
	from := dag.Commandcenter(withPasswords(fixture(src)))
	to := dag.Commandcenter(withPasswords(fixture(dst)))
	err := roundTrip(ctx, from, src, to, dst)
	return errors.Join(err, stop(ctx, from), stop(ctx, to), reset(ctx, to))
}

func roundTrip(ctx context.Context, from *dagger.Commandcenter, src string, to *dagger.Commandcenter, dst string) error {
	if _, err := psql(ctx, from, dbPassword(src), "DROP TABLE IF EXISTS notes CASCADE; "+notesSQL); err != nil {
		return err
	}
	dump := from.Backup()
	mode, err := dag.Container().From(postgresImage).WithFile("/dump", dump).
		WithExec([]string{"stat", "-c", "%a", "/dump"}).Stdout(ctx)
	if err != nil || strings.TrimSpace(mode) != "600" {
		return fmt.Errorf("dump file mode: wanted 600, got %q (%v)", mode, err)
	}
	want, err := psql(ctx, from, dbPassword(src), notesState)
	if err != nil {
		return err
	}
	if _, err := to.Restore(dagger.CommandcenterRestoreOpts{Dump: dump}).Project(ctx); err != nil {
		return fmt.Errorf("restore into %s: %w", dst, err)
	}
	got, err := psql(ctx, to, dbPassword(dst), notesState)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("restored state: wanted %q, got %q", want, got)
	}
	if id, err := psql(ctx, to, dbPassword(dst), "WITH added AS (INSERT INTO notes (body) VALUES ('fourth') RETURNING id) SELECT id FROM added"); err != nil || id != "4" {
		return fmt.Errorf("insert after the restore: wanted id 4 from the restored sequence, got %q (%v)", id, err)
	}
	h, err := getBackendHealth(ctx, to)
	if err != nil || h.Status != "ok" {
		return fmt.Errorf("backend after the restore: wanted ok, got %+v (%v)", h, err)
	}
	return nil
}

// Restore of a file that is not a dump fails with a clear error, and the database keeps every row.
//
// +check
func (m *Tests) RestoreRejectsBadDump(ctx context.Context) error {
	const project = "bad-dump"
	return withStack(ctx, withPasswords(fixture(project)), func(cc *dagger.Commandcenter) error {
		if _, err := psql(ctx, cc, dbPassword(project), "DROP TABLE IF EXISTS notes CASCADE; "+notesSQL); err != nil {
			return err
		}
		before, err := psql(ctx, cc, dbPassword(project), "SELECT string_agg(body, ',' ORDER BY id) FROM notes")
		if err != nil {
			return err
		}
		notADump := dag.Directory().WithNewFile("db.dump", "SELECT 'this is no dump';\n").File("db.dump")
		_, err = cc.Restore(dagger.CommandcenterRestoreOpts{Dump: notADump}).Project(ctx)
		if err == nil || !strings.Contains(err.Error(), "--dump is not a dump that pg_restore") || !strings.Contains(err.Error(), "the database was not changed") {
			return fmt.Errorf("restore of a text file: wanted a clear refusal, got %v", err)
		}
		after, err := psql(ctx, cc, dbPassword(project), "SELECT string_agg(body, ',' ORDER BY id) FROM notes")
		if err != nil || after != before {
			return fmt.Errorf("rows after a refused restore: wanted %q, got %q (%v)", before, after, err)
		}
		return nil
	})
}

// Reset is refused without confirmation and while the project runs; after it, the project starts empty with new generated secrets.
//
// +check
func (m *Tests) ResetStartsAfresh(ctx context.Context) error {
	const project = "reset"
	cc := dag.Commandcenter(fixture(project))
	err := checkReset(ctx, cc, project)
	return errors.Join(err, stop(ctx, cc))
}

func checkReset(ctx context.Context, cc *dagger.Commandcenter, project string) error {
	if _, err := cc.Start().Project(ctx); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if _, err := psqlURL(ctx, cc, "CREATE TABLE IF NOT EXISTS notes (body text); INSERT INTO notes VALUES ('before the reset')"); err != nil {
		return err
	}
	before, err := generatedSecretsOf(ctx, cc)
	if err != nil {
		return err
	}
	if _, err := cc.Reset().Project(ctx); err == nil || !strings.Contains(err.Error(), "confirm with --yes or --confirm "+project) {
		return fmt.Errorf("reset without confirmation: wanted a refusal naming --yes, got %v", err)
	}
	if _, err := cc.Reset(dagger.CommandcenterResetOpts{Yes: true}).Project(ctx); err == nil ||
		!strings.Contains(err.Error(), `project "`+project+`" is running: postgres (running since`) {
		return fmt.Errorf("reset while running: wanted a refusal naming postgres, got %v", err)
	}
	if out, err := psqlURL(ctx, cc, "SELECT count(*) FROM notes"); err != nil || out != "1" {
		return fmt.Errorf("rows after refused resets: wanted 1, got %q (%v)", out, err)
	}
	if err := stop(ctx, cc); err != nil {
		return err
	}
	if _, err := cc.Reset(dagger.CommandcenterResetOpts{Confirm: project}).Start().Project(ctx); err != nil {
		return fmt.Errorf("reset --confirm %s, then start: %w", project, err)
	}
	out, err := psqlURL(ctx, cc, "SELECT count(*) FROM pg_tables WHERE tablename = 'notes'")
	if err != nil || out != "0" {
		return fmt.Errorf("after the reset: wanted no notes table, got %q (%v)", out, err)
	}
	after, err := generatedSecretsOf(ctx, cc)
	if err != nil {
		return err
	}
	for name, value := range before {
		if after[name] == value || len(after[name]) != 40 {
			return fmt.Errorf("generated %s after the reset: wanted a new 40-character value", name)
		}
	}
	return nil
}

// Switching an existing project to another PostgreSQL major fails with the commands that move the data, and a backup restored with the new major keeps every row.
//
// It needs pgvector/pgvector:pg17 (the default image has pgvector, and so must the next) of another major than the default image's, and says so (SKIP) when the engine cannot pull it or its major is the same (the lab's stand-ins are PostgreSQL 15 under every tag).
//
// +check
func (m *Tests) MajorSwitchNamesTheMigration(ctx context.Context) error {
	const newImage = "pgvector/pgvector:pg17"
	next, err := dag.Container().From(newImage).EnvVariable(ctx, "PG_MAJOR")
	if err != nil {
		return skip("MajorSwitchNamesTheMigration", fmt.Sprintf("%s cannot be pulled here: %v", newImage, err))
	}
	current, err := dag.Container().From(defaultPostgresImage).EnvVariable(ctx, "PG_MAJOR")
	if err != nil {
		return fmt.Errorf("read PG_MAJOR of %s: %w", defaultPostgresImage, err)
	}
	if next == current {
		return skip("MajorSwitchNamesTheMigration", fmt.Sprintf("%s and %s are both PostgreSQL %q here (PG_MAJOR): there is no major to switch to", newImage, defaultPostgresImage, next))
	}
	project := "major-" + nonce()
	old := dag.Commandcenter(withPasswords(fixture(project)))
	opts := withPasswords(fixture(project))
	opts.PostgresImage = newImage
	moved := dag.Commandcenter(opts)
	err = checkMajorSwitch(ctx, old, moved, project, newImage)
	return errors.Join(err, stop(ctx, old), stop(ctx, moved), reset(ctx, moved), reset(ctx, old))
}

func checkMajorSwitch(ctx context.Context, old, next *dagger.Commandcenter, project, newImage string) error {
	if _, err := old.Start().Project(ctx); err != nil {
		return fmt.Errorf("start with %s: %w", defaultPostgresImage, err)
	}
	if _, err := psql(ctx, old, dbPassword(project), notesSQL); err != nil {
		return err
	}
	want, err := psql(ctx, old, dbPassword(project), notesState)
	if err != nil {
		return err
	}
	dump := old.Backup()
	if _, err := dump.Sync(ctx); err != nil {
		return fmt.Errorf("backup with %s: %w", defaultPostgresImage, err)
	}
	if err := stop(ctx, old); err != nil {
		return err
	}
	_, err = next.Start().Project(ctx)
	for _, part := range []string{"is a PostgreSQL", "cluster, and --postgres-image " + newImage, "backup export --path", "restore --dump"} {
		if err == nil || !strings.Contains(err.Error(), part) {
			return fmt.Errorf("start with %s over the old data: wanted the migration message with %q, got %v", newImage, part, err)
		}
	}
	if _, err := next.Restore(dagger.CommandcenterRestoreOpts{Dump: dump}).Project(ctx); err != nil {
		return fmt.Errorf("restore with %s: %w", newImage, err)
	}
	got, err := psql(ctx, next, dbPassword(project), notesState)
	if err != nil || got != want {
		return fmt.Errorf("state on %s: wanted %q, got %q (%v)", newImage, want, got, err)
	}
	return nil
}

// With no flags, Redis refuses a client without the password, the generated one works through RedisURL and DatabaseURL, and Redis writes its data files for its owner only.
//
// +check
func (m *Tests) GeneratedCredentialsGuardRedis(ctx context.Context) error {
	const project = "redis-auth"
	return withStack(ctx, fixture(project), func(cc *dagger.Commandcenter) error {
		out, err := redisPing(ctx, cc.Redis(), 6379, nil)
		if got := fmt.Sprint(out, err); !strings.Contains(got, "NOAUTH") {
			return fmt.Errorf("PING without a password: wanted NOAUTH, got %q", got)
		}
		pong, err := dag.Container().From(redisImage).
			WithServiceBinding("db", cc.Redis()).
			WithSecretVariable("REDIS_URL", cc.RedisURL(dagger.CommandcenterRedisURLOpts{Host: "db"})).
			WithEnvVariable("NONCE", nonce()).
			WithExec([]string{"sh", "-c", `redis-cli -u "$REDIS_URL" SAVE >/dev/null && redis-cli -u "$REDIS_URL" PING`}).
			Stdout(ctx)
		if err != nil || strings.TrimSpace(pong) != "PONG" {
			return fmt.Errorf("PING with RedisURL: wanted PONG, got %q (%v)", pong, explain(err))
		}
		if one, err := psqlURL(ctx, cc, "SELECT 1"); err != nil || one != "1" {
			return fmt.Errorf("SELECT 1 with DatabaseURL: wanted 1, got %q (%v)", one, err)
		}
		mode, err := cc.Container("redis").WithEnvVariable("NONCE", nonce()).
			WithExec([]string{"stat", "-c", "%a", "/data/dump.rdb"}).Stdout(ctx)
		if err != nil || strings.TrimSpace(mode) != "600" {
			return fmt.Errorf("mode of Redis's dump.rdb: wanted 600, got %q (%v)", mode, explain(err))
		}
		return nil
	})
}

// psqlURL runs sql from a client bound to the project's postgres, with the
// DatabaseURL the module gives.
func psqlURL(ctx context.Context, cc *dagger.Commandcenter, sql string) (string, error) {
	out, err := dag.Container().
		From(postgresImage).
		WithServiceBinding("db", cc.Postgres()).
		WithSecretVariable("DATABASE_URL", cc.DatabaseURL(dagger.CommandcenterDatabaseURLOpts{Host: "db"})).
		WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"sh", "-c", `psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -tAc "$1"`, "sh", sql}).
		Stdout(ctx)
	return strings.TrimSpace(out), explain(err)
}

// generatedSecretsOf reads a project's generated secrets where the services keep them.
func generatedSecretsOf(ctx context.Context, cc *dagger.Commandcenter) (map[string]string, error) {
	files := map[string][2]string{
		"database password": {"postgres", "/var/lib/commandcenter-db/db-password"},
		"redis password":    {"redis", "/var/lib/commandcenter-redis/redis-password"},
		"secret key":        {"backend", "/var/lib/commandcenter/secret-key"},
	}
	out := map[string]string{}
	for name, f := range files {
		value, err := cc.Container(f[0]).WithEnvVariable("NONCE", nonce()).WithExec([]string{"cat", f[1]}).Stdout(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the generated %s: %w", name, explain(err))
		}
		out[name] = value
	}
	return out, nil
}

// stopPostgres stops a project's postgres alone.
func stopPostgres(ctx context.Context, cc *dagger.Commandcenter) error {
	_, err := cc.Postgres().Stop(ctx)
	return err
}

// reset empties a stopped project's volumes, so a test's fresh project
// leaves nothing behind.
func reset(ctx context.Context, cc *dagger.Commandcenter) error {
	if _, err := cc.Reset(dagger.CommandcenterResetOpts{Yes: true}).Project(ctx); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	return nil
}

// closeSegment returns the WAL segment that holds what was written so far,
// then writes past that segment's end so that PostgreSQL archives it. The
// app's role may not call pg_switch_wal, which is a superuser's.
func closeSegment(ctx context.Context, cc *dagger.Commandcenter) (string, error) {
	segment, err := psqlURL(ctx, cc, "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
	if err != nil {
		return "", fmt.Errorf("read the current WAL segment: %w", err)
	}
	// 20000 rows of 1 KiB, more WAL than a 16 MiB segment holds.
	const filler = "CREATE TABLE wal_filler AS SELECT repeat(md5(i::text), 32) AS pad FROM generate_series(1, 20000) i; DROP TABLE wal_filler"
	if _, err := psqlURL(ctx, cc, filler); err != nil {
		return "", fmt.Errorf("write past WAL segment %s: %w", segment, err)
	}
	return segment, nil
}
