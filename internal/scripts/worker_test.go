package scripts

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A worker's supervision: commandcenter-run with COMMANDCENTER_WORKER.
// Its start is over once commandcenter-alive, the engine's health check,
// passed: the tests run it as the engine would.

var workerEnv = []string{"COMMANDCENTER_WORKER=1"}

func TestWorkerThatFailsAtStartEndsTheSupervisor(t *testing.T) {
	s := newSandbox(t)
	begin := time.Now()
	_, stderr, err := s.run(workerEnv, "run", "worker", "sh", "-c", "echo no broker >&2; exit 1")
	if exitCode(err) != 78 || !strings.Contains(stderr, "no broker") || !strings.Contains(stderr, "exited by itself with status 1") {
		t.Fatalf("run = %v, %q; want exit status 78 (not retried), its stderr and its own status", err, stderr)
	}
	// A hang bound: a supervisor that restarted the worker would back off
	// 1 s, 2 s, 4 s ... for ever.
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("run took %s, want the failure at once, not a restart loop", took)
	}
	if exit := fields(s.read("logs/worker.exit")); exit["status"] != "1" {
		t.Errorf("worker.exit = %v, want the command's own status 1 for Status's last_error", exit)
	}
}

func TestWorkerEndsOfItsOwnKind(t *testing.T) {
	for _, tc := range []struct {
		command string
		want    int
	}{
		{"exit 0", 78},             // a worker must keep running
		{"no-such-command-x", 127}, // not runnable: its own code, not retried either
		{"kill -KILL $$", 137},     // a signal may not repeat: retried
	} {
		s := newSandbox(t)
		_, stderr, err := s.run(workerEnv, "run", "worker", "sh", "-c", tc.command)
		if exitCode(err) != tc.want {
			t.Errorf("a worker running %q: exit %v, %q; want %d", tc.command, err, stderr, tc.want)
		}
	}
}

// passAlive runs the worker's health check once it has run settle, as
// the engine does, and fails unless it passes.
func (s *sandbox) passAlive(settle string) {
	s.t.Helper()
	time.Sleep(1100 * time.Millisecond)
	if _, stderr, err := s.run(nil, "alive", "web", settle); err != nil {
		s.t.Fatalf("alive = %v, %q; want it to pass", err, stderr)
	}
}

func TestWorkerThatOutlivesTheSettleTimeButNotItsStartFails(t *testing.T) {
	s := newSandbox(t)
	// 1.5 s, past a settle time of 1 s, but the health check never ran: a
	// loaded engine's launchers take seconds before the command fails.
	_, stderr, err := s.run(workerEnv, "run", "web", "sh", "-c", "sleep 1.5; echo no broker >&2; exit 1")
	if exitCode(err) != 78 || !strings.Contains(stderr, "before its start passed its health check") {
		t.Fatalf("run = %v, %q; want exit status 78: its start is not over", err, stderr)
	}
}

func TestWorkerThatExitsLaterIsRestartedAndNoted(t *testing.T) {
	s := newSandbox(t)
	// The first run passes its health check and exits 5; the next ones wait.
	cmd, exited := s.startSupervised(append(workerEnv, "COMMANDCENTER_LOG_DIR="+s.logs),
		`echo ready; if [ -e "$FAKE_OUT/ran" ]; then echo second-run; exec sleep 30; fi; touch "$FAKE_OUT/ran"; sleep 2; exit 5`)
	s.passAlive("1")
	log := s.waitForLog("web", "second-run")
	if !strings.Contains(log, "exited by itself with status 5") || !strings.Contains(log, "starting again in 1s") {
		t.Errorf("log = %q, want the exit and the restart noted", log)
	}
	if exit := fields(s.read("logs/web.exit")); exit["status"] != "5" {
		t.Errorf("web.exit = %v, want status 5 for Status's last_error", exit)
	}
	if run := fields(s.read("logs/web.run")); run["restarts"] != "1" || run["state"] != "running" {
		t.Errorf("web.run = %v, want running after 1 restart", run)
	}
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, exited, 5*time.Second)
}

func TestWorkerStopDuringBackoffIsPrompt(t *testing.T) {
	s := newSandbox(t)
	cmd, exited := s.startSupervised(workerEnv, `echo ready; sleep 2; exit 2`)
	s.passAlive("1")
	s.waitForLog("web", "starting again in 1s")
	s.waitForLog("web", "starting again in 8s")
	begin := time.Now()
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, exited, 10*time.Second)
	// Waiting out the 8 s backoff would take about 7 s or more; a prompt
	// stop takes a fraction of one, with room here for a loaded machine.
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("a stop during the 8 s backoff took %s, want it at once", took)
	}
}

func TestAliveWaitsForTheSettleTime(t *testing.T) {
	s := newSandbox(t)
	s.startSupervised(workerEnv, `echo ready; exec sleep 30`)
	if _, _, err := s.run(nil, "alive", "web", "2"); err == nil {
		t.Error("alive right after the start passed, want it to wait 2 s")
	}
	time.Sleep(2100 * time.Millisecond)
	if _, _, err := s.run(nil, "alive", "other", "2"); err == nil {
		t.Error("alive of a worker that never ran passed")
	}
	if _, stderr, err := s.run(nil, "alive", "web", "2"); err != nil {
		t.Errorf("alive after 2 s = %v, %q; want it to pass", err, stderr)
	}
	run, settled := fields(s.read("logs/web.run")), fields(s.read("logs/web.settled"))
	if settled["instance"] == "" || settled["instance"] != run["instance"] {
		t.Errorf("web.settled = %v, want the instance of web.run %v: its start is over", settled, run)
	}
}

func TestWorkerProbeIsRecordedAndAliveWaitsForIt(t *testing.T) {
	s := newSandbox(t)
	// The probe fails until the worker wrote its mark, as a Celery worker
	// answers ping only once it is ready.
	s.startSupervised(workerEnv, `echo ready; exec commandcenter-worker-probe web 'test -e "$FAKE_OUT/ready" && echo pong || { echo no reply >&2; exit 1; }' sh -c 'sleep 1; touch "$FAKE_OUT/ready"; exec sleep 30'`)
	time.Sleep(1200 * time.Millisecond)
	if _, _, err := s.run(nil, "alive", "web", "1", "probe"); err == nil {
		t.Error("alive with a probe that has not passed yet passed")
	}
	probe := map[string]string{}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		b, _ := os.ReadFile(filepath.Join(s.logs, "web.probe"))
		if probe = fields(string(b)); probe["state"] == "passing" {
			break
		}
	}
	child := fields(s.read("logs/web.child"))
	if probe["state"] != "passing" || probe["message"] != "pong" || probe["pid"] != child["pid"] {
		t.Fatalf("web.probe = %v, want passing with pong for the worker's pid %s", probe, child["pid"])
	}
	if _, stderr, err := s.run(nil, "alive", "web", "1", "probe"); err != nil {
		t.Errorf("alive once the probe passed = %v, %q; want it to pass", err, stderr)
	}
}
