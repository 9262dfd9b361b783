package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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

// newTemplate lays out a template cluster and returns the environment of
// postgres's launcher and family step with it; pg-template's calls are
// noted in pg-template.calls, and all but copy do nothing.
func (s *sandbox) newTemplate() []string {
	s.t.Helper()
	template := filepath.Join(s.dir, "template")
	if err := os.MkdirAll(filepath.Join(template, "base"), 0o700); err != nil {
		s.t.Fatal(err)
	}
	s.write(filepath.Join(template, "PG_VERSION"), "16\n", 0o600)
	s.write(filepath.Join(template, "base", "1"), "catalog", 0o600)
	real := filepath.Join(s.bin, "commandcenter-pg-template")
	if err := os.Rename(real, real+".real"); err != nil {
		s.t.Fatal(err)
	}
	s.write(real, `#!/bin/sh
echo "$1" >>"$FAKE_OUT/pg-template.calls"
[ "$1" != copy ] || exec commandcenter-pg-template.real "$@"
`, 0o755)
	pending := filepath.Join(s.dir, "pgdata", "commandcenter", "password-pending")
	return s.pgEnv("COMMANDCENTER_PG_TEMPLATE="+template, "COMMANDCENTER_PG_ROLE_PENDING_FILE="+pending)
}

func TestPostgresCopiesTheTemplateForANewProject(t *testing.T) {
	s := newSandbox(t)
	env := s.newTemplate()
	s.fake("docker-ensure-initdb.sh")
	s.fake("postgres")
	s.write(filepath.Join(s.dir, "pgdata", "left-by-a-cut-copy"), "x", 0o600)
	_, stderr, err := s.run(env, "postgres")
	if err != nil {
		t.Fatalf("postgres = %v, %q", err, stderr)
	}
	s.waitFor("pg-template.calls")
	if s.read("pgdata/base/1") != "catalog" || s.read("pgdata/PG_VERSION") != "16\n" || !s.exists("pgdata/commandcenter/password-pending") {
		t.Error("postgres did not copy the template and mark it pending")
	}
	if s.exists("pgdata/left-by-a-cut-copy") {
		t.Error("a file of an earlier copy cut short is still there, want the copy made again from the start")
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(s.read("pg-template.calls"), "password") && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if got := s.read("pg-template.calls"); got != "copy\npassword\n" {
		t.Errorf("pg-template calls = %q, want the copy, then the password given beside the server", got)
	}
	if s.exists("docker-ensure-initdb.sh.argv") || s.exists("logs/postgres.initializing") || s.exists("logs/postgres.copied") {
		t.Error("postgres ran initdb, or left its cluster marked as being made or its copy unannounced")
	}
	if !strings.Contains(stderr, "cluster copied from the image's template in") || !strings.Contains(s.read("logs/postgres.initdb"), "at=") {
		t.Errorf("stderr = %q, want it to say the cluster was copied from the template, and the new database recorded", stderr)
	}
}

func TestPgFamilyCopiesTheTemplateBeforeTheStart(t *testing.T) {
	s := newSandbox(t)
	env, me := s.familyEnv()
	_ = os.RemoveAll(filepath.Join(s.dir, "families", "70"))
	env = append(env, s.newTemplate()...)
	if _, stderr, err := s.run(env, "pg-family", me); err != nil {
		t.Fatalf("pg-family = %v, %q", err, stderr)
	}
	if s.read("pgdata/base/1") != "catalog" || !s.exists("pgdata/commandcenter/password-pending") || !s.exists("logs/postgres.copied") {
		t.Fatal("pg-family did not make the new project's cluster from the template, pending, with its copy noted")
	}
	s.fake("postgres")
	_, stderr, err := s.run(env, "postgres")
	if err != nil {
		t.Fatalf("postgres = %v, %q", err, stderr)
	}
	if !strings.Contains(stderr, "cluster copied from the image's template in") || s.exists("logs/postgres.copied") {
		t.Errorf("stderr = %q, want the launcher to announce the copy the family step made, once", stderr)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(s.read("pg-template.calls"), "password") && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if got := s.read("pg-template.calls"); got != "copy\npassword\n" {
		t.Errorf("pg-template calls = %q, want one copy (the family step's), then the password", got)
	}
}

func TestPgFamilyLeavesTheTemplateToTheLauncher(t *testing.T) {
	for name, setup := range map[string]func(s *sandbox){
		"a cluster of another major": func(s *sandbox) { s.write(filepath.Join(s.logs, "postgres.major"), "15\n", 0o600) },
		"a server starting":          func(s *sandbox) { s.holdLock(t, "postgres") },
	} {
		t.Run(name, func(t *testing.T) {
			s := newSandbox(t)
			env, me := s.familyEnv()
			_ = os.RemoveAll(filepath.Join(s.dir, "families", "70"))
			env = append(env, s.newTemplate()...)
			setup(s)
			if _, stderr, err := s.run(env, "pg-family", me); err != nil {
				t.Fatalf("pg-family = %v, %q", err, stderr)
			}
			if s.exists("pgdata/PG_VERSION") || s.exists("pg-template.calls") {
				t.Error("pg-family made a cluster, want it left to the launcher")
			}
		})
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

// holdLock holds service name's lock, as a running instance's launcher
// does, until the test ends.
func (s *sandbox) holdLock(t *testing.T, name string) {
	f, err := os.OpenFile(filepath.Join(s.logs, name+".lock"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
}
