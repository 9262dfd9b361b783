package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The one-instance lock, as the launchers take it in the service
// containers: these tests run two launchers on one run directory, as two
// containers on one volume do.

// startServer runs `commandcenter-run web COMMAND` in its own process
// group and waits for its first output line in the log.
func (s *sandbox) startServer(command string) *exec.Cmd {
	s.t.Helper()
	cmd, _ := s.startSupervised(nil, "echo ready; "+command)
	return cmd
}

func exitCode(err error) int {
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode()
	}
	if err == nil {
		return 0
	}
	return -1
}

func TestRunRefusesASecondInstance(t *testing.T) {
	s := newSandbox(t)
	s.startServer("sleep 30")
	begin := time.Now()
	_, stderr, err := s.run([]string{"COMMANDCENTER_PROJECT=shop", "COMMANDCENTER_LOCK_WAIT=1"}, "run", "web", "echo", "second")
	if exitCode(err) != 75 {
		t.Fatalf("second instance exited with %v, want 75", err)
	}
	want := regexp.MustCompile(`^project "shop": web is already running \(started 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ\), in another Dagger session or with other settings in this one; stop it from any terminal with ` + "`dagger call --project shop stop`" + `, or use another --project\n$`)
	if !want.MatchString(stderr) {
		t.Errorf("stderr = %q, want it to match %s", stderr, want)
	}
	// The wait before a refusal is 1 s here: only a launcher that never
	// gives up takes half a minute.
	if took := time.Since(begin); took > 30*time.Second {
		t.Errorf("the refusal took %s, want it after the 1 s wait", took)
	}
	if log := s.read("logs/web.log"); strings.Contains(log, "second") {
		t.Errorf("log = %q: the refused instance ran its command", log)
	}
}

func TestRunLockIsFreedByAKill(t *testing.T) {
	s := newSandbox(t)
	first := s.startServer("sleep 30")
	if err := killContainer(first.Process.Pid); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	if _, stderr, err := s.run(nil, "run", "web", "echo", "after-kill"); err != nil {
		t.Fatalf("start after a kill = %v, %q; want it to run", err, stderr)
	}
	s.waitForLog("web", "after-kill")
}

func TestRunRecordsItsStart(t *testing.T) {
	s := newSandbox(t)
	if _, _, err := s.run(nil, "run", "web", "true"); err != nil {
		t.Fatal(err)
	}
	record := s.read("logs/web.run")
	time := `20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ`
	want := regexp.MustCompile(`^started=` + time + `\naddress=[0-9.]*\ninstance=[0-9a-f]{16}\nstate=exited\nsince=` + time + `\nrestarts=0\n$`)
	if !want.MatchString(record) {
		t.Errorf("web.run = %q, want it to match %s", record, want)
	}
	info, err := os.Stat(filepath.Join(s.logs, "web.log"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("web.log: %v, %v; want mode 0600 (umask 077)", info, err)
	}
}

func TestProbeFindsTheRunningInstance(t *testing.T) {
	s := newSandbox(t)
	_, stderr, err := s.run(nil, "probe", "web", "true")
	if exitCode(err) != 3 || stderr != "not running (never started in this project)\n" {
		t.Errorf("probe before any start = %v, %q; want exit 3, not running", err, stderr)
	}
	s.startServer("sleep 30")
	s.write(filepath.Join(s.logs, "web.run"), "started=2026-11-27T10:00:00Z\naddress=10.87.0.9\n", 0o600)
	stdout, stderr, err := s.run(nil, "probe", "web", "sh", "-c", `echo "$HOST"`)
	if err != nil || stdout != "10.87.0.9\n" {
		t.Errorf("probe of a running instance = %v, %q, %q; want HOST=10.87.0.9", err, stdout, stderr)
	}
}

func TestProbeReportsAStoppedInstance(t *testing.T) {
	s := newSandbox(t)
	if _, _, err := s.run(nil, "run", "web", "true"); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := s.run(nil, "probe", "web", "true")
	if exitCode(err) != 3 || !regexp.MustCompile(`^not running \(last started 20\d\d-`).MatchString(stderr) {
		t.Errorf("probe after the instance ended = %v, %q; want exit 3, not running, last started", err, stderr)
	}
}

func TestProbesDoNotBlockAStart(t *testing.T) {
	s := newSandbox(t)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				_, _, _ = s.run(nil, "probe", "web", "true")
			}
		}
	}()
	for range 5 {
		if _, stderr, err := s.run(nil, "run", "web", "true"); err != nil {
			t.Errorf("start while probes run = %v, %q; want it to run", err, stderr)
		}
	}
	close(stop)
	<-done
}

func TestResetEmptiesDirectoriesButNotWhileRunning(t *testing.T) {
	s := newSandbox(t)
	data := filepath.Join(s.dir, "data")
	if err := os.MkdirAll(filepath.Join(data, "base"), 0o700); err != nil {
		t.Fatal(err)
	}
	s.write(filepath.Join(data, "PG_VERSION"), "16\n", 0o600)
	server := s.startServer("sleep 30")
	_, stderr, err := s.run([]string{"COMMANDCENTER_LOCK_WAIT=1"}, "reset", "web", data, s.logs)
	if exitCode(err) != 75 || !strings.Contains(stderr, "web is already running") {
		t.Fatalf("reset while running = %v, %q; want exit 75, already running", err, stderr)
	}
	if s.read("data/PG_VERSION") != "16\n" {
		t.Fatal("a refused reset changed the data")
	}
	_ = killContainer(server.Process.Pid)
	_ = server.Wait()
	if _, stderr, err := s.run(nil, "reset", "web", data, s.logs); err != nil {
		t.Fatalf("reset = %v, %q", err, stderr)
	}
	for dir, want := range map[string][]string{data: nil, s.logs: {"web.lock"}} {
		if diff := cmp.Diff(want, names(t, dir)); diff != "" {
			t.Errorf("%s after reset (-want +got):\n%s", dir, diff)
		}
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// holdLock holds service name's lock, as a running instance's launcher or
// a push of postgres's WAL does, until release is called or the test ends.
func (s *sandbox) holdLock(name string) (release func()) {
	s.t.Helper()
	f, err := os.OpenFile(filepath.Join(s.logs, name+".lock"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { f.Close() })
	return func() { f.Close() }
}

func TestAStartWaitsForAPushOfTheWAL(t *testing.T) {
	s := newSandbox(t)
	release := s.holdLock("web")
	s.write(filepath.Join(s.logs, "web.pushing"), "", 0o644)
	time.AfterFunc(3*time.Second, release)
	// The wait for a busy lock is 1 s here: only one that waits for the
	// push outlasts the push's 3 s.
	_, stderr, err := s.run([]string{"COMMANDCENTER_PROJECT=shop", "COMMANDCENTER_LOCK_WAIT=1"}, "run", "web", "echo", "started")
	if err != nil {
		t.Fatalf("a start during a 3 s push: %v %q, want it to wait for the push and start", err, stderr)
	}
	s.waitForLog("web", "started")
	if s.exists("logs/web.pushing") {
		t.Error("web.pushing is still there once the start took the lock, want it cleared")
	}
}
