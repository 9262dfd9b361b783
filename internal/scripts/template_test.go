package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// templateEnv is pg-template password's environment in a project's new
// cluster: fake pg_isready, which refuses connections notReady times first,
// and psql, which records its argv and answers psqlErr (failing when it is
// not empty); and pg_ctl, which records its argv.
func (s *sandbox) templateEnv(notReady int, psqlErr string) []string {
	s.t.Helper()
	s.write(filepath.Join(s.bin, "pg_isready"), `#!/bin/sh
n=$(cat "$FAKE_OUT/isready.count" 2>/dev/null || echo 0)
echo $((n + 1)) >"$FAKE_OUT/isready.count"
[ "$n" -ge `+strconv.Itoa(notReady)+` ]
`, 0o755)
	s.write(filepath.Join(s.bin, "psql"), `#!/bin/sh
printf '%s\n' "$@" > "$FAKE_OUT/psql.argv"
[ -z "`+psqlErr+`" ] || { echo "`+psqlErr+`" >&2; exit 1; }
`, 0o755)
	s.fake("pg_ctl")
	if err := os.MkdirAll(filepath.Join(s.dir, "pgdata", "commandcenter"), 0o700); err != nil {
		s.t.Fatal(err)
	}
	pending := s.write(filepath.Join(s.dir, "pgdata", "commandcenter", "password-pending"), "", 0o600)
	return []string{"PGDATA=" + filepath.Join(s.dir, "pgdata"), "POSTGRES_USER=commandcenter",
		"COMMANDCENTER_PG_SUPERUSER=postgres", "COMMANDCENTER_PG_ROLE_PENDING_FILE=" + pending,
		"POSTGRES_PASSWORD_FILE=" + s.write(filepath.Join(s.dir, "pw"), "the-project-password\n", 0o400)}
}

// running is the PID of a process that runs: the test's own.
var running = strconv.Itoa(os.Getpid())

func TestPgTemplateSetsThePasswordOnceTheServerAccepts(t *testing.T) {
	s := newSandbox(t)
	if _, stderr, err := s.run(s.templateEnv(2, ""), "pg-template", "password", running); err != nil {
		t.Fatalf("pg-template password = %v, %q", err, stderr)
	}
	if got := s.read("isready.count"); got != "3\n" {
		t.Errorf("pg_isready ran %q times, want 3: until the server accepts", got)
	}
	argv := strings.Split(strings.TrimSuffix(s.read("psql.argv"), "\n"), "\n")
	if got, want := strings.Join(argv[:len(argv)-1], " "), "-XqtA -v ON_ERROR_STOP=1 -U postgres -d postgres -c"; got != want {
		t.Errorf("psql argv = %q, want %q: the module's superuser, on the local socket", got, want)
	}
	sql := argv[len(argv)-1]
	for _, want := range []string{"alter role %I password %L', 'commandcenter'", "pg_read_file('" + filepath.Join(s.dir, "pw") + "')", `E'\n'`} {
		if !strings.Contains(sql, want) {
			t.Errorf("SQL = %q, want %q in it", sql, want)
		}
	}
	if strings.Contains(sql, "the-project-password") {
		t.Errorf("SQL = %q: want it without the password", sql)
	}
	if s.exists("pgdata/commandcenter/password-pending") || s.exists("pg_ctl.argv") {
		t.Error("pg-template password left the cluster marked as pending, or stopped the server")
	}
}

func TestPgTemplateStopsTheServerWhenThePasswordFails(t *testing.T) {
	s := newSandbox(t)
	_, stderr, err := s.run(s.templateEnv(0, `ERROR:  role "commandcenter" does not exist`), "pg-template", "password", running)
	if err == nil || !strings.Contains(stderr, "could not give the app's role commandcenter its password") || !strings.Contains(stderr, "does not exist") {
		t.Errorf("pg-template password = %v, %q: want a failure with the server's error", err, stderr)
	}
	if !s.exists("pgdata/commandcenter/password-pending") {
		t.Error("the cluster is no longer marked as pending after a failure: its health check would pass")
	}
	if !strings.HasPrefix(s.read("pg_ctl.argv"), "-D\n") || !strings.Contains(s.read("pg_ctl.argv"), "stop") {
		t.Errorf("pg_ctl argv = %q, want a stop of the server", s.read("pg_ctl.argv"))
	}
}

func TestPgTemplateGivesUpWhenTheServerIsGone(t *testing.T) {
	s := newSandbox(t)
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.run(s.templateEnv(1_000_000, ""), "pg-template", "password", strconv.Itoa(gone.Process.Pid))
	if err == nil || s.exists("psql.argv") || !s.exists("pgdata/commandcenter/password-pending") {
		t.Errorf("pg-template password with its server gone = %v: want a failure, no psql, the cluster still pending", err)
	}
}

// waitFor waits until the file name exists under the sandbox, which a
// detached process writes; the bound is for a hang only.
func (s *sandbox) waitFor(name string) {
	s.t.Helper()
	for range 200 {
		if s.exists(name) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("%s: not written within 10 s", name)
}

func TestPostgresCopiesTheTemplateForANewProject(t *testing.T) {
	s := newSandbox(t)
	template := filepath.Join(s.dir, "template")
	if err := os.MkdirAll(filepath.Join(template, "base"), 0o700); err != nil {
		t.Fatal(err)
	}
	s.write(filepath.Join(template, "PG_VERSION"), "16\n", 0o600)
	s.write(filepath.Join(template, "base", "1"), "catalog", 0o600)
	pending := filepath.Join(s.dir, "pgdata", "commandcenter", "password-pending")
	env := s.pgEnv("COMMANDCENTER_PG_TEMPLATE="+template, "COMMANDCENTER_PG_ROLE_PENDING_FILE="+pending)
	s.fake("commandcenter-pg-template")
	s.fake("docker-ensure-initdb.sh")
	s.fake("postgres")
	_, stderr, err := s.run(env, "postgres")
	if err != nil {
		t.Fatalf("postgres = %v, %q", err, stderr)
	}
	s.waitFor("commandcenter-pg-template.argv")
	if s.read("pgdata/base/1") != "catalog" || !s.exists("pgdata/commandcenter/password-pending") ||
		!strings.HasPrefix(s.read("commandcenter-pg-template.argv"), "password\n") {
		t.Error("postgres did not copy the template, mark it pending and start giving the project's password beside the server")
	}
	if s.exists("docker-ensure-initdb.sh.argv") || s.exists("logs/postgres.initializing") {
		t.Error("postgres ran initdb, or left its cluster marked as being made")
	}
	if !strings.Contains(stderr, "cluster copied from the image's template") {
		t.Errorf("stderr = %q, want it to say the cluster was copied from the template", stderr)
	}
}

func TestPostgresGivesThePasswordAgainWhileTheClusterIsPending(t *testing.T) {
	s := newSandbox(t)
	pending := filepath.Join(s.dir, "pgdata", "commandcenter", "password-pending")
	env := s.pgEnv("COMMANDCENTER_PG_TEMPLATE="+filepath.Join(s.dir, "template"), "COMMANDCENTER_PG_ROLE_PENDING_FILE="+pending)
	s.write(filepath.Join(s.dir, "pgdata", "PG_VERSION"), "16\n", 0o600)
	s.fake("commandcenter-pg-template")
	s.fake("postgres")
	if _, stderr, err := s.run(env, "postgres"); err != nil {
		t.Fatalf("postgres = %v, %q", err, stderr)
	}
	if s.exists("commandcenter-pg-template.argv") {
		t.Fatal("postgres started giving the password to a cluster that is not pending")
	}
	if err := os.MkdirAll(filepath.Dir(pending), 0o700); err != nil {
		t.Fatal(err)
	}
	s.write(pending, "", 0o600)
	if _, stderr, err := s.run(env, "postgres"); err != nil {
		t.Fatalf("postgres = %v, %q", err, stderr)
	}
	s.waitFor("commandcenter-pg-template.argv")
}
