package scripts

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The catch-up (commandcenter-pg-catchup) renews the lease while it pushes,
// as a serving copy does, against the lease tests' fake S3 and a fake
// server: pg_ctl starts a sleeper as the postmaster, and psql says the
// switched segment is archived once $FAKE_OUT/archived exists.

const fakeCatchUpServer = `#!/bin/sh
case $(basename "$0") in
pg_controldata) echo "Database cluster state:               in production" ;;
psql)
	case "$*" in
	*pg_switch_wal*) echo 000000010000000000000009 ;;
	*pg_stat_archiver*) if [ -e "$FAKE_OUT/archived" ]; then echo t; else echo f; fi ;;
	esac ;;
pg_ctl)
	pid=$(head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null) || pid=
	case " $* " in
	*" start "*)
		env >"$FAKE_OUT/server.env"
		sleep 300 </dev/null >/dev/null 2>&1 &
		echo $! >"$PGDATA/postmaster.pid" ;;
	*" stop "*) kill "$pid" 2>/dev/null ;;
	*" status "*) kill -0 "$pid" 2>/dev/null ;;
	esac ;;
esac
`

// catchUpSandbox is a lease sandbox whose copy (copy-a) holds the lease
// it last renewed and a cluster that a kill left running.
func catchUpSandbox(t *testing.T) (*sandbox, []string) {
	s, env := leaseSandbox(t, 5)
	for _, name := range []string{"pg_controldata", "psql", "pg_ctl"} {
		s.write(filepath.Join(s.bin, name), fakeCatchUpServer, 0o755)
	}
	s.write(filepath.Join(s.dir, "pgdata", "PG_VERSION"), "15\n", 0o600)
	s.write(filepath.Join(s.logs, "postgres.copy"), "copy-a\n", 0o644)
	if err := os.MkdirAll(filepath.Join(s.dir, "s3"), 0o755); err != nil {
		t.Fatal(err)
	}
	s.write(filepath.Join(s.dir, "s3", "lease"), "copy=copy-a\nstate=held\nttl=5\n", 0o644)
	s.write(filepath.Join(s.dir, "s3", "lease.etag"), "\"a0\"\n", 0o644)
	return s, append(env, "COMMANDCENTER_PG_SUPERUSER=cc_admin")
}

// catchUp starts the catch-up in a process group of its own, which the
// test's end kills; the returned channel gets its exit.
func catchUp(s *sandbox, env []string) (<-chan error, *strings.Builder) {
	cmd := s.command(env, "pg-catchup")
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return done, out
}

func (s *sandbox) storeLease() map[string]string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "s3", "lease"))
	return fields(string(b))
}

func TestCatchUpRenewsTheLeaseWhileItPushes(t *testing.T) {
	s, env := catchUpSandbox(t)
	done, out := catchUp(s, env)
	first := s.waitLease("the catch-up's claim", state("held"))
	s.waitLease("a renewal during the push", func(r map[string]string) bool { return r["state"] == "held" && r["etag"] != first["etag"] })
	select {
	case err := <-done:
		t.Fatalf("the catch-up ended (%v) before its WAL was archived:\n%s", err, out)
	default:
	}
	if env := s.read("server.env"); !strings.Contains(env, "COMMANDCENTER_LEASE_FENCE=1") {
		t.Error("the pushing server's environment lacks COMMANDCENTER_LEASE_FENCE=1: its archive-push would not be fenced")
	}
	s.write(filepath.Join(s.dir, "archived"), "", 0o644)
	if err := waitExit(t, done, logWait); err != nil {
		t.Fatalf("catch-up: %v\n%s", err, out)
	}
	if got := s.storeLease()["state"]; got != "released" {
		t.Errorf("the store's lease after the catch-up = %q, want released\n%s", got, out)
	}
	released := s.read("s3/lease.etag")
	time.Sleep(2500 * time.Millisecond) // two renewal periods
	if got := s.read("s3/lease.etag"); got != released {
		t.Error("the lease was written after the catch-up released it: its renewer still runs")
	}
}

func TestCatchUpStopsWhenAnotherCopyTakesTheLease(t *testing.T) {
	s, env := catchUpSandbox(t)
	done, out := catchUp(s, env)
	s.waitLease("the catch-up's claim", state("held"))
	s.write(filepath.Join(s.dir, "s3", "lease"), "copy=rival\nstate=held\nttl=5\n", 0o644)
	s.write(filepath.Join(s.dir, "s3", "lease.etag"), "\"rival\"\n", 0o644)
	err := waitExit(t, done, logWait)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 79 || !strings.Contains(out.String(), "another engine took the store's lease while") {
		t.Fatalf("catch-up whose lease was taken: %v\n%s\nwant exit 79, saying so", err, out)
	}
	if got := s.storeLease()["copy"]; got != "rival" {
		t.Errorf("the store's lease after the refusal names %q, want the rival's, untouched", got)
	}
	pid := strings.TrimSpace(s.read("pgdata/postmaster.pid"))
	if !gone(pid) {
		t.Errorf("the pushing server (%s) still runs, want it stopped when the lease was lost\n%s", pid, out)
	}
}

// gone polls until process pid has exited and been reaped; only a process
// that runs on reaches the bound.
func gone(pid string) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat("/proc/" + pid); err != nil {
			return true
		}
	}
	return false
}
