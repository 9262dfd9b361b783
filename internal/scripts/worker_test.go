package scripts

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A worker's supervision: commandcenter-run with COMMANDCENTER_RESTART_AFTER.

var workerEnv = []string{"COMMANDCENTER_RESTART_AFTER=1"}

func TestWorkerThatFailsAtStartEndsTheSupervisor(t *testing.T) {
	s := newSandbox(t)
	_, stderr, err := s.run(workerEnv, "run", "worker", "sh", "-c", `echo run >>"$FAKE_OUT/runs"; echo no broker >&2; exit 1`)
	if exitCode(err) != 1 || !strings.Contains(stderr, "no broker") {
		t.Fatalf("run = %v, %q; want the worker's exit status 1 and its stderr", err, stderr)
	}
	if runs := s.read("runs"); runs != "run\n" {
		t.Errorf("the worker ran %d times, want once: a failure at start is not restarted", strings.Count(runs, "\n"))
	}
}

func TestWorkerThatExitsLaterIsRestartedAndNoted(t *testing.T) {
	s := newSandbox(t)
	// The first run lasts past the settle time and exits 5; the next ones wait.
	cmd, exited := s.startSupervised(append(workerEnv, "COMMANDCENTER_LOG_DIR="+s.logs),
		`echo ready; if [ -e "$FAKE_OUT/ran" ]; then echo second-run; exec sleep 30; fi; touch "$FAKE_OUT/ran"; sleep 1.2; exit 5`)
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
	cmd, exited := s.startSupervised(workerEnv, `echo ready; sleep 1.1; exit 2`)
	s.waitForLog("web", "starting again in 1s")
	s.waitForLog("web", "starting again in 2s")
	begin := time.Now()
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, exited, 5*time.Second)
	if took := time.Since(begin); took > time.Second {
		t.Errorf("a stop during the backoff took %s, want it at once", took)
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
