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
)

// Requests from other sessions, as the supervisor (commandcenter-run) takes
// them: a requester here runs commandcenter-request on the same run
// directory, as a container of another engine session does on the volume.

// startSupervised runs `commandcenter-run web sh -c COMMAND` with env and
// returns it once COMMAND printed "ready", with a channel for its exit.
func (s *sandbox) startSupervised(env []string, command string) (*exec.Cmd, <-chan error) {
	s.t.Helper()
	cmd := s.command(env, "run", "web", "sh", "-c", command)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	exited := make(chan error, 1)
	done := make(chan struct{})
	go func() { exited <- cmd.Wait(); close(done) }()
	s.t.Cleanup(func() { _ = killContainer(cmd.Process.Pid); <-done })
	s.waitForLog("web", "ready")
	return cmd, exited
}

// fields parses the KEY=VALUE lines that commandcenter-request prints.
func fields(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

func waitExit(t *testing.T, exited <-chan error, within time.Duration) error {
	t.Helper()
	select {
	case err := <-exited:
		return err
	case <-time.After(within):
		t.Fatalf("the supervisor was still running after %s", within)
		return nil
	}
}

func TestStopRequestStopsTheInstanceWithItsOwnSignal(t *testing.T) {
	s := newSandbox(t)
	_, exited := s.startSupervised([]string{"COMMANDCENTER_STOP_SIGNAL=HUP"},
		`trap 'echo got-hup; exit 0' HUP; trap 'echo got-term; exit 0' TERM; echo ready; while :; do sleep 0.05; done`)
	stdout, stderr, err := s.run(nil, "request", "stop", "web", "20")
	if err != nil {
		t.Fatalf("request stop = %v, %q", err, stderr)
	}
	got := fields(stdout)
	if got["result"] != "stopped" || !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(got["instance"]) {
		t.Errorf("request stop printed %q, want result=stopped and the instance", stdout)
	}
	if err := waitExit(t, exited, 5*time.Second); exitCode(err) != 143 {
		t.Errorf("supervisor exited with %v, want 143 after a stop from another session", err)
	}
	log := s.read("logs/web.log")
	for _, want := range []string{"got-hup", "[commandcenter] web stopped from another session"} {
		if !strings.Contains(log, want) {
			t.Errorf("log = %q, want %q", log, want)
		}
	}
	if strings.Contains(log, "got-term") {
		t.Errorf("log = %q: the server got TERM, want only its own stop signal (HUP here)", log)
	}
	if _, stderr, err := s.run(nil, "run", "web", "echo", "next"); err != nil {
		t.Errorf("start after the stop = %v, %q; want the lock free", err, stderr)
	}
}

func TestStopRequestKillsAServerThatIgnoresIt(t *testing.T) {
	s := newSandbox(t)
	_, exited := s.startSupervised([]string{"COMMANDCENTER_STOP_GRACE=1"},
		`trap '' TERM; echo ready; while :; do sleep 0.05; done`)
	begin := time.Now()
	if out, stderr, err := s.run(nil, "request", "stop", "web", "20"); err != nil || fields(out)["result"] != "stopped" {
		t.Fatalf("request stop = %v, %q, %q; want stopped", err, out, stderr)
	}
	// below the default grace of 10 s, which a grace not applied would take
	if took := time.Since(begin); took > 9*time.Second {
		t.Errorf("stop took %s, want the kill after the 1 s grace", took)
	}
	waitExit(t, exited, 5*time.Second)
}

func TestRestartRequestRunsTheServerAgainInPlace(t *testing.T) {
	s := newSandbox(t)
	s.startSupervised(nil, `echo ready; exec sleep 30`)
	before := fields(s.read("logs/web.run"))
	out, stderr, err := s.run(nil, "request", "restart", "web", "20", "sh", "-c", `[ -n "$HOST" ]`)
	if err != nil || fields(out)["result"] != "restarted" {
		t.Fatalf("request restart = %v, %q, %q; want restarted", err, out, stderr)
	}
	log := s.read("logs/web.log")
	if n := strings.Count(log, "[commandcenter] web starting as"); n != 2 {
		t.Errorf("log has %d starts, want 2 (in place, one supervisor):\n%s", n, log)
	}
	after := fields(s.read("logs/web.run"))
	if after["instance"] != before["instance"] || after["state"] != "running" || after["restarts"] != "1" {
		t.Errorf("record after the restart = %v, want instance %s, running, restarts=1", after, before["instance"])
	}
	if _, _, err := s.run(nil, "probe", "web", "true"); err != nil {
		t.Errorf("probe after the restart = %v, want it running", err)
	}
}

// A request naming another instance, as one from a requester that read a
// dead instance's record, is dropped: it never reaches this one.
func TestRequestForAnotherInstanceIsIgnored(t *testing.T) {
	s := newSandbox(t)
	s.startSupervised(nil, `echo ready; exec sleep 30`)
	fifo, err := os.OpenFile(filepath.Join(s.logs, "web.requests"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fifo.WriteString("action=stop instance=0123456789abcdef request=old at=2026-01-01T00:00:00Z\n")
	fifo.Close()
	if err != nil {
		t.Fatal(err)
	}
	s.waitForLog("web", "ignored a request for another instance")
	if _, _, err := s.run(nil, "probe", "web", "true"); err != nil {
		t.Errorf("probe after a request for another instance = %v, want this one still running", err)
	}
	if out, stderr, err := s.run(nil, "request", "stop", "web", "10"); err != nil || fields(out)["result"] != "stopped" {
		t.Errorf("a request for this instance afterwards = %v, %q, %q; want stopped", err, out, stderr)
	}
}

// An instance that takes no requests (one started by an older module) is
// named, not waited for.
func TestRequestToAnInstanceWithoutFIFOFails(t *testing.T) {
	s := newSandbox(t)
	s.startSupervised(nil, `echo ready; exec sleep 30`)
	if err := os.Remove(filepath.Join(s.logs, "web.requests")); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := s.run(nil, "request", "stop", "web", "10")
	if exitCode(err) != 1 || !strings.Contains(stderr, "takes no requests") {
		t.Errorf("request without a FIFO = %v, %q; want exit 1, takes no requests", err, stderr)
	}
}

func TestRequestWithNothingRunningSaysSo(t *testing.T) {
	s := newSandbox(t)
	for _, action := range []string{"stop", "restart"} {
		_, stderr, err := s.run(nil, "request", action, "web", "5", "true")
		if exitCode(err) != 3 || stderr != "not running (never started in this project)\n" {
			t.Errorf("request %s with nothing running = %v, %q; want exit 3, not running", action, err, stderr)
		}
	}
}

func TestStartWaitsForAStoppingInstance(t *testing.T) {
	s := newSandbox(t)
	env := []string{"COMMANDCENTER_LOCK_WAIT=1", "COMMANDCENTER_STOP_GRACE=3"}
	first, exited := s.startSupervised(env, `trap '' TERM; echo ready; while :; do sleep 0.05; done`)
	// The engine's stop signal: the server ignores it and is killed after 3 s.
	if err := first.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	begin := time.Now()
	if _, stderr, err := s.run(env, "run", "web", "echo", "second"); err != nil {
		t.Fatalf("start while the first instance stops = %v, %q; want it to wait, then run", err, stderr)
	}
	if took := time.Since(begin); took < 2*time.Second {
		t.Errorf("the second start ran after %s, want it after the first one's 3 s grace", took)
	}
	waitExit(t, exited, time.Second)
}

func TestStartRefusesALiveInstanceWithinTheWait(t *testing.T) {
	s := newSandbox(t)
	s.startSupervised(nil, `echo ready; exec sleep 30`)
	begin := time.Now()
	_, _, err := s.run([]string{"COMMANDCENTER_LOCK_WAIT=1"}, "run", "web", "true")
	if exitCode(err) != 75 {
		t.Fatalf("second start = %v, want exit 75", err)
	}
	if took := time.Since(begin); took > 30*time.Second {
		t.Errorf("refusal took %s, want it after the 1 s wait, not a hang", took)
	}
}

func TestStatusReadsTheRecordAndProbes(t *testing.T) {
	s := newSandbox(t)
	stdout, _, err := s.run(nil, "status", "web", "true")
	if err != nil || stdout != "running=false\n" {
		t.Errorf("status before any start = %v, %q; want running=false alone", err, stdout)
	}
	s.startSupervised(nil, `echo ready; exec sleep 30`)
	stdout, _, err = s.run(nil, "status", "web", "sh", "-c", `echo "answered at $HOST"; exit 1`)
	got := fields(stdout)
	if err != nil || got["running"] != "true" || got["record_state"] != "running" || got["healthy"] != "false" ||
		got["message"] != "answered at "+got["record_address"] {
		t.Errorf("status of a running instance whose probe fails = %v, %q", err, stdout)
	}
}

// A server's own children get the stop too: none outlives it holding the
// lock, as npm's node would.
func TestStopRequestReachesTheServersChildren(t *testing.T) {
	s := newSandbox(t)
	_, exited := s.startSupervised(nil, `sleep 60 & echo ready; wait`)
	if out, stderr, err := s.run(nil, "request", "stop", "web", "10"); err != nil || fields(out)["result"] != "stopped" {
		t.Fatalf("request stop = %v, %q, %q; want stopped", err, out, stderr)
	}
	waitExit(t, exited, 5*time.Second)
}

// A server that fails to come back after a restart fails the request at
// once, instead of waiting out the timeout.
func TestRestartOfAServerThatDoesNotComeBack(t *testing.T) {
	s := newSandbox(t)
	marker := filepath.Join(s.dir, "started-once")
	s.startSupervised(nil, `if [ -e `+marker+` ]; then echo gone >&2; exit 1; fi; touch `+marker+`; echo ready; exec sleep 30`)
	begin := time.Now()
	_, stderr, err := s.run(nil, "request", "restart", "web", "60", "false")
	if exitCode(err) != 1 || !strings.Contains(stderr, "web exited after its restart") {
		t.Errorf("restart of a server that does not come back = %v, %q; want exit 1, exited after its restart", err, stderr)
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("the failure took %s, want it at once, not at the 60 s timeout", took)
	}
}
