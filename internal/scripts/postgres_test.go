package scripts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pgEnv is the environment the postgres container gives its launcher, for
// a PostgreSQL 16 image, with its data directory in the sandbox. The
// setup, which needs a server, is a fake that records its call.
func (s *sandbox) pgEnv(extra ...string) []string {
	s.t.Helper()
	s.fake("commandcenter-pg-setup")
	pgdata := filepath.Join(s.dir, "pgdata")
	if err := os.MkdirAll(pgdata, 0o700); err != nil {
		s.t.Fatal(err)
	}
	return append([]string{
		"PGDATA=" + pgdata, "COMMANDCENTER_PROJECT=shop",
		"COMMANDCENTER_PG_MAJOR=16", "COMMANDCENTER_PG_IMAGE=postgres:16-alpine",
		"POSTGRES_PASSWORD_FILE=" + s.write(filepath.Join(s.dir, "pw"), "pw\n", 0o400),
	}, extra...)
}

func (s *sandbox) exists(name string) bool {
	_, err := os.Stat(filepath.Join(s.dir, name))
	return err == nil
}

func TestPostgresRemovesAStalePidFile(t *testing.T) {
	s := newSandbox(t)
	env := s.pgEnv()
	s.write(filepath.Join(s.dir, "pgdata", "PG_VERSION"), "16\n", 0o600)
	s.write(filepath.Join(s.dir, "pgdata", "postmaster.pid"), "21\n/var/lib/postgresql/data\n", 0o600)
	s.write(filepath.Join(s.bin, "postgres"), `#!/bin/sh
if [ -e "$PGDATA/postmaster.pid" ]; then echo present; else echo absent; fi > "$FAKE_OUT/pid-at-start"
`, 0o755)
	s.fake("docker-ensure-initdb.sh")
	if _, stderr, err := s.run(env, "postgres"); err != nil {
		t.Fatalf("postgres = %v, %q", err, stderr)
	}
	if got := s.read("pid-at-start"); got != "absent\n" {
		t.Errorf("postmaster.pid when the server started: %s, want it removed", got)
	}
	if s.exists("docker-ensure-initdb.sh.argv") {
		t.Error("initdb ran over an existing cluster")
	}
	if got := s.read("logs/postgres.major"); got != "16\n" {
		t.Errorf("postgres.major = %q, want the cluster's major 16", got)
	}
}

func TestPostgresStartsAnInterruptedInitdbAgain(t *testing.T) {
	s := newSandbox(t)
	env := s.pgEnv()
	s.write(filepath.Join(s.logs, "postgres.initializing"), "16\n", 0o600)
	s.write(filepath.Join(s.dir, "pgdata", "PG_VERSION"), "16\n", 0o600)
	s.write(filepath.Join(s.dir, "pgdata", "half-written"), "x", 0o600)
	s.write(filepath.Join(s.bin, "docker-ensure-initdb.sh"), `#!/bin/sh
ls -A "$PGDATA" > "$FAKE_OUT/pgdata-at-initdb"
echo 16 > "$PGDATA/PG_VERSION"
`, 0o755)
	s.fake("postgres")
	_, stderr, err := s.run(env, "postgres")
	if err != nil {
		t.Fatalf("postgres = %v, %q", err, stderr)
	}
	if got := s.read("pgdata-at-initdb"); got != "" {
		t.Errorf("initdb found %q in the data directory, want it emptied", got)
	}
	if !strings.Contains(stderr, "the last initdb of this PostgreSQL 16 cluster was interrupted") {
		t.Errorf("stderr = %q, want the reason for starting over", stderr)
	}
	if s.exists("logs/postgres.initializing") {
		t.Error("postgres.initializing is left after a complete initdb")
	}
	if !s.exists("postgres.argv") {
		t.Error("the server did not start")
	}
}

func TestPostgresRefusesAnEmptyVolumeOfANewMajor(t *testing.T) {
	s := newSandbox(t)
	env := s.pgEnv("COMMANDCENTER_PG_MAJOR=17", "COMMANDCENTER_PG_IMAGE=postgres:17-alpine")
	s.write(filepath.Join(s.logs, "postgres.major"), "16\n", 0o600)
	s.fake("docker-ensure-initdb.sh")
	s.fake("postgres")
	_, stderr, err := s.run(env, "postgres")
	if exitCode(err) != 76 {
		t.Fatalf("postgres = %v, %q; want exit 76", err, stderr)
	}
	for _, want := range []string{
		`project "shop": its database is a PostgreSQL 16 cluster, and --postgres-image postgres:17-alpine is PostgreSQL 17`,
		"Nothing was changed.",
		"dagger call --project shop --postgres-image postgres:16-alpine backup export --path shop-pg16.dump",
		"dagger call --project shop --postgres-image postgres:17-alpine restore --dump shop-pg16.dump",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr = %q, want it to contain %q", stderr, want)
		}
	}
	if s.exists("docker-ensure-initdb.sh.argv") || s.exists("postgres.argv") {
		t.Error("initdb or the server ran")
	}
	if got := s.read("logs/postgres.major"); got != "16\n" {
		t.Errorf("postgres.major = %q, want 16 kept", got)
	}
}

func TestPgAdoptLetsARestoreMoveToANewMajor(t *testing.T) {
	s := newSandbox(t)
	env := s.pgEnv("COMMANDCENTER_PG_MAJOR=17")
	s.write(filepath.Join(s.logs, "postgres.major"), "16\n", 0o600)
	if _, stderr, err := s.run(env, "pg-adopt"); err != nil {
		t.Fatalf("pg-adopt = %v, %q", err, stderr)
	}
	if got := s.read("logs/postgres.major"); got != "17\n" {
		t.Errorf("postgres.major after adopting an empty volume = %q, want 17", got)
	}
	s.write(filepath.Join(s.dir, "pgdata", "PG_VERSION"), "17\n", 0o600)
	s.write(filepath.Join(s.logs, "postgres.major"), "16\n", 0o600)
	if _, _, err := s.run(env, "pg-adopt"); err != nil {
		t.Fatal(err)
	}
	if got := s.read("logs/postgres.major"); got != "16\n" {
		t.Errorf("postgres.major after pg-adopt over a cluster = %q, want 16 unchanged", got)
	}
}

func TestPostgresWithoutItsStoreSaysSoAndForcesANewBaseBackup(t *testing.T) {
	s := newSandbox(t)
	env := s.pgEnv()
	s.write(filepath.Join(s.dir, "pgdata", "PG_VERSION"), "16\n", 0o600)
	s.write(filepath.Join(s.logs, "postgres.store"), "s3://team/cc\n", 0o600)
	s.write(filepath.Join(s.logs, "postgres.backup"), "label=20261201-100000F\n", 0o600)
	s.fake("postgres")
	_, stderr, err := s.run(env, "postgres")
	if err != nil {
		t.Fatalf("postgres = %v, %q", err, stderr)
	}
	if !strings.Contains(stderr, "was archived to the store s3://team/cc and starts without it") {
		t.Errorf("stderr = %q, want the warning that the store is left out", stderr)
	}
	if s.exists("logs/postgres.backup") {
		t.Error("the record of the last base backup stayed: the next start with the store would not take a new one over the gap")
	}
}
