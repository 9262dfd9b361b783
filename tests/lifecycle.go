package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"dagger/tests/internal/crashlog"
	"dagger/tests/internal/dagger"
)

// Restart from another definition of the project, as from another session, restarts the running backend and postgres in place: each logs a new start, nothing else restarts, the rows stay, and the backend answers.
//
// +check
func (m *Tests) RestartFromElsewhereIsInPlace(ctx context.Context) error {
	const project = "inplace"
	return withStack(ctx, withPasswords(fixture(project)), func(cc *dagger.Commandcenter) error {
		row := "kept-" + nonce()
		if _, err := psql(ctx, cc, dbPassword(project),
			"CREATE TABLE IF NOT EXISTS notes (body text); INSERT INTO notes VALUES ('"+row+"')"); err != nil {
			return err
		}
		elsewhere := dag.Commandcenter(elsewhere(withPasswords(fixture(project))))
		for _, s := range []string{"backend", "postgres"} {
			if err := restartedAlone(ctx, cc, elsewhere, s); err != nil {
				return err
			}
		}
		out, err := psql(ctx, cc, dbPassword(project), "SELECT count(*) FROM notes WHERE body = '"+row+"'")
		if err != nil || out != "1" {
			return fmt.Errorf("rows after the restarts: wanted 1, got %q (%v)", out, err)
		}
		h, err := getBackendHealth(ctx, cc)
		if err != nil || h.Status != "ok" || h.Postgres != "ok" {
			return fmt.Errorf("/health after the restarts: wanted status and postgres ok, got %+v (%v)", h, err)
		}
		return nil
	})
}

// elsewhere changes a setting that the running services do not depend on
// for their identity in the engine: its definitions are other services, as
// another session's are.
func elsewhere(o dagger.CommandcenterOpts) dagger.CommandcenterOpts {
	o.BackendWorkers = 2
	o.RetryAttempts = 2
	return o
}

// restartedAlone restarts s through other, and checks that s alone logged
// a new start and that the report says so.
func restartedAlone(ctx context.Context, cc, other *dagger.Commandcenter, s string) error {
	before, err := startCounts(ctx, cc)
	if err != nil {
		return err
	}
	report, err := other.Restart(ctx, s)
	if err != nil {
		return fmt.Errorf("restart %s from elsewhere: %w", s, err)
	}
	if !strings.HasPrefix(report, s+": restarted in place, healthy again after ") {
		return fmt.Errorf("restart %s: wanted the in-place report, got %q", s, report)
	}
	after, err := startCounts(ctx, cc)
	if err != nil {
		return err
	}
	for _, x := range appServices {
		want := before[x]
		if x == s {
			want++
		}
		if after[x] != want {
			return fmt.Errorf("after restarting %s: wanted %d starts of %s, got %d", s, want, x, after[x])
		}
	}
	return nil
}

// Stop from another definition of the project stops the running stack: its port stops answering, Status shows each service running and healthy before and stopped after, the proxy says why it stopped, PostgreSQL shut down cleanly, and its next start runs no crash recovery.
//
// +check
func (m *Tests) StopFromElsewhereStopsTheStack(ctx context.Context) error {
	opts := withPasswords(fixture("elsewhere"))
	cc := dag.Commandcenter(opts)
	if _, err := cc.Stack().Start(ctx); err != nil {
		return errors.Join(fmt.Errorf("start the stack: %w", err), stop(ctx, cc))
	}
	watch := newPortWatch(ctx, cc.Stack())
	other := dag.Commandcenter(elsewhere(opts))
	err := watch.waitUp(ctx)
	if err == nil {
		err = checkStopFromElsewhere(ctx, other)
	}
	if err == nil {
		err = watch.refused()
	}
	if err == nil {
		err = checkCleanRestart(ctx, other)
	}
	return errors.Join(err, stop(ctx, other))
}

// portWatch is a client of a running stack, in a container of its own, that
// notes on a volume when the stack's backend port first answers, then
// exits once the port refuses a connection: that the stack stopped serving
// is seen from outside it.
type portWatch struct {
	id, volume string
	done       chan error
}

func newPortWatch(ctx context.Context, stack *dagger.Service) *portWatch {
	w := &portWatch{id: nonce(), volume: "portwatch", done: make(chan error, 1)}
	go func() {
		_, err := dag.Container().From(pythonImage).
			WithServiceBinding("stack", stack).
			WithMountedCache("/watch", dag.CacheVolume(w.volume)).
			WithExec([]string{"python3", "-c", portWatchScript, "/watch/" + w.id}).
			Sync(ctx)
		w.done <- explain(err)
	}()
	return w
}

const portWatchScript = `import socket, sys, time
up = False
deadline = time.time() + 180
while time.time() < deadline:
    try:
        socket.create_connection(("stack", 8000), timeout=1).close()
        if not up:
            up = True
            open(sys.argv[1], "w").write("up")
    except OSError as e:
        if up:
            print("refused: %s" % e)
            sys.exit(0)
    time.sleep(0.1)
sys.exit("the port never refused" if up else "the port never answered")`

// waitUp returns once the watch has seen the port answer.
func (w *portWatch) waitUp(ctx context.Context) error {
	for range 120 {
		out, err := dag.Container().From(pythonImage).
			WithMountedCache("/watch", dag.CacheVolume(w.volume)).
			WithEnvVariable("NONCE", nonce()).
			WithExec([]string{"sh", "-c", "cat /watch/" + w.id + " 2>/dev/null || :"}).
			Stdout(ctx)
		if err != nil {
			return fmt.Errorf("read the port watch's note: %w", explain(err))
		}
		if out == "up" {
			return nil
		}
		select {
		case err := <-w.done:
			return fmt.Errorf("port watch ended before the port answered: %v", err)
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("the stack's port 8000 did not answer the watch within a minute")
}

// refused returns the watch's verdict: nil once the port refused, or once
// the engine ended the watch because the stack it binds exited with the
// supervisor's status for a stop from another session (143).
func (w *portWatch) refused() error {
	select {
	case err := <-w.done:
		if err == nil || strings.Contains(err.Error(), "(aliased as stack) exited: exit code: 143") {
			return nil
		}
		return fmt.Errorf("after the stop, the stack's port: %w", err)
	case <-time.After(2 * time.Minute):
		return fmt.Errorf("after the stop, the stack's port 8000 still answered 2 minutes later")
	}
}

func checkStopFromElsewhere(ctx context.Context, other *dagger.Commandcenter) error {
	if err := wantStates(ctx, other, "running", true); err != nil {
		return err
	}
	report, err := other.Stop(ctx)
	if err != nil {
		return fmt.Errorf("stop from elsewhere: %w", err)
	}
	if !strings.HasPrefix(report, `project "elsewhere": stopped 5 of 5 services`) {
		return fmt.Errorf("stop report: wanted all 5 stopped, got:\n%s", report)
	}
	if err := wantStates(ctx, other, "stopped", false); err != nil {
		return err
	}
	for s, want := range map[string]string{
		"proxy":    "[commandcenter] proxy stopped from another session",
		"postgres": "database system is shut down",
	} {
		logs, err := serviceLogs(ctx, other, s, 200)
		if err != nil || !strings.Contains(logs, want) {
			return fmt.Errorf("%s logs after the stop: wanted %q, got (%v):\n%s", s, want, err, logs)
		}
	}
	return nil
}

// checkCleanRestart starts the stopped project again, which the lock
// allows only if every instance is gone, and checks that PostgreSQL found
// a cleanly shut down cluster.
func checkCleanRestart(ctx context.Context, cc *dagger.Commandcenter) error {
	if _, err := cc.Start().Project(ctx); err != nil {
		return fmt.Errorf("start after the stop: %w", err)
	}
	logs, err := serviceLogs(ctx, cc, "postgres", 200)
	if err != nil {
		return err
	}
	last, err := crashlog.LastStart(logs, "postgres")
	if err != nil {
		return err
	}
	if strings.Contains(last, "not properly shut down") || strings.Contains(last, "automatic recovery") {
		return fmt.Errorf("postgres start after a stop: wanted no crash recovery, got:\n%s", last)
	}
	return nil
}

// projectStatus is what Status returns.
type projectStatus struct {
	Project    string `json:"project"`
	Protection struct {
		Store   string `json:"store"`
		Durable bool   `json:"durable"`
	} `json:"protection"`
	Services []serviceEntry `json:"services"`
}

// serviceEntry is one service in what Status returns.
type serviceEntry struct {
	Service     string `json:"service"`
	State       string `json:"state"`
	Healthy     bool   `json:"healthy"`
	Instance    string `json:"instance"`
	Message     string `json:"message"`
	NewDatabase bool   `json:"new_database"`
	Initialized string `json:"initialized"`
	Restored    *struct {
		Backup       string `json:"backup"`
		Target       string `json:"target"`
		ThisInstance bool   `json:"this_instance"`
	} `json:"restored"`
}

// findService returns the service called name in services, or an error
// that shows the whole status (out).
func findService(services []serviceEntry, name, out string) (serviceEntry, error) {
	for _, s := range services {
		if s.Service == name {
			return s, nil
		}
	}
	return serviceEntry{}, fmt.Errorf("status: wanted a service %q, got:\n%s", name, out)
}

// readStatus calls Status and decodes its JSON; out is the text, for messages.
func readStatus(ctx context.Context, cc *dagger.Commandcenter) (st projectStatus, out string, err error) {
	out, err = cc.Status(ctx)
	if err != nil {
		return st, "", fmt.Errorf("status: %w", err)
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return st, out, fmt.Errorf("status: wanted JSON, got %q", out)
	}
	return st, out, nil
}

// wantStates checks Status: every service, the proxy included, in state
// and healthy or not.
func wantStates(ctx context.Context, cc *dagger.Commandcenter, state string, healthy bool) error {
	st, out, err := readStatus(ctx, cc)
	if err != nil {
		return err
	}
	if len(st.Services) != 5 {
		return fmt.Errorf("status: wanted 5 services, got %d in:\n%s", len(st.Services), out)
	}
	for _, s := range st.Services {
		if s.State != state || s.Healthy != healthy || (state == "running") != (s.Instance != "") {
			return fmt.Errorf("status of %s: wanted %s, healthy %v, got:\n%s", s.Service, state, healthy, out)
		}
	}
	return nil
}

// Stop and Restart of a project that runs nowhere say so: nothing was stopped, nothing was restarted.
//
// +check
func (m *Tests) StopWithNothingRunningSaysSo(ctx context.Context) error {
	cc := dag.Commandcenter(withPasswords(fixture("idle")))
	report, err := cc.Stop(ctx)
	if err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	if !strings.HasPrefix(report, `nothing was running in project "idle": nothing was stopped`) || strings.Contains(report, ": stopped in") {
		return fmt.Errorf("stop with nothing running: wanted it to say so, got:\n%s", report)
	}
	_, err = cc.Restart(ctx, "backend")
	if err == nil || !strings.Contains(err.Error(), "backend: was not running") || !strings.Contains(err.Error(), "nothing was restarted") {
		return fmt.Errorf("restart with nothing running: wanted an error that says so, got %v", err)
	}
	return nil
}

// Redis killed with SIGKILL starts again as a new instance that loads its append-only file, with every write acknowledged more than a second before: the file is synced every second.
//
// +check
func (m *Tests) RedisKeepsWritesAcrossKill(ctx context.Context) error {
	const project = "aof"
	opts := withPasswords(fixture(project))
	return withStack(ctx, opts, func(cc *dagger.Commandcenter) error {
		key := "counter-" + nonce()
		if out, err := redisExec(ctx, cc.Redis(), opts.RedisPassword, "sh", "-c",
			`for i in 1 2 3 4 5 6 7; do redis-cli -h redis INCR "$1" >/dev/null || exit 1; done; redis-cli -h redis GET "$1"`, "sh", key); err != nil || out != "7" {
			return fmt.Errorf("INCR 7 times: wanted 7, got %q (%v)", out, err)
		}
		time.Sleep(2 * time.Second) // appendfsync everysec: the writes are on disk within a second
		if err := killAndStart(ctx, cc, "redis", cc.Redis(), crashlog.Redis); err != nil {
			return err
		}
		out, err := redisExec(ctx, cc.Redis(), opts.RedisPassword, "redis-cli", "-h", "redis", "GET", key)
		if err != nil || out != "7" {
			return fmt.Errorf("counter after the kill: wanted 7, got %q (%v)", out, err)
		}
		return nil
	})
}

// startCounts counts the start lines in each service's logs.
func startCounts(ctx context.Context, cc *dagger.Commandcenter) (map[string]int, error) {
	counts := map[string]int{}
	for _, s := range appServices {
		logs, err := serviceLogs(ctx, cc, s, 10000)
		if err != nil {
			return nil, err
		}
		counts[s] = count(logs, "[commandcenter] "+s+" starting as")
	}
	return counts, nil
}

// A backend that fails its first two starts comes up on the third attempt.
//
// +check
func (m *Tests) RetryRecoversFromFailedStarts(ctx context.Context) error {
	run := nonce()
	opts := withPasswords(fixture("flaky"))
	opts.RetryAttempts = 4
	// The attempt counter lives in the backend's state volume; the run's
	// nonce makes a fresh counter and a fresh definition on every run.
	opts.BackendCommand = []string{"sh", "-c", `f=$COMMANDCENTER_STATE_DIR/starts-` + run + `
n=$(($(cat "$f" 2>/dev/null || echo 0) + 1)); echo "$n" > "$f"
if [ "$n" -le 2 ]; then echo "run ` + run + `: start $n fails" >&2; exit 1; fi
echo "run ` + run + `: start $n serves"; exec python3 -m app.main`}
	return withStack(ctx, opts, func(cc *dagger.Commandcenter) error {
		logs, err := serviceLogs(ctx, cc, "backend", 10000)
		if err != nil {
			return err
		}
		for _, want := range []string{"start 1 fails", "start 2 fails", "start 3 serves"} {
			if !strings.Contains(logs, "run "+run+": "+want) {
				return fmt.Errorf("backend logs: wanted %q, got:\n%s", want, logs)
			}
		}
		if strings.Contains(logs, "run "+run+": start 4") {
			return fmt.Errorf("backend logs: wanted no 4th start, got:\n%s", logs)
		}
		h, err := getBackendHealth(ctx, cc)
		if err != nil {
			return err
		}
		if h.Status != "ok" {
			return fmt.Errorf("/health after the retries: wanted ok, got %+v", h)
		}
		return nil
	})
}

// A backend that always fails makes Start fail with the attempts and the last stderr, in bounded time.
//
// +check
func (m *Tests) RetryGivesUpWithLastStderr(ctx context.Context) error {
	run := nonce()
	opts := withPasswords(fixture("broken"))
	opts.RetryAttempts = 3
	opts.BackendCommand = []string{"sh", "-c", `echo "broken backend ` + run + `: cannot bind" >&2; exit 1`}
	cc := dag.Commandcenter(opts)
	begin := time.Now()
	_, err := cc.Start().Project(ctx)
	elapsed := time.Since(begin)
	if err := checkGaveUp(err, elapsed, run); err != nil {
		return errors.Join(err, stop(ctx, cc))
	}
	logs, err := serviceLogs(ctx, cc, "backend", 10000)
	if n := count(logs, "broken backend "+run); err != nil || n != 3 {
		err = errors.Join(err, fmt.Errorf("backend logs: wanted 3 failed starts, got %d", n))
		return errors.Join(err, stop(ctx, cc))
	}
	return stop(ctx, cc)
}

func checkGaveUp(err error, elapsed time.Duration, run string) error {
	if err == nil {
		return fmt.Errorf("start: wanted an error, got success")
	}
	for _, want := range []string{"start backend", "failed 3 attempts", "broken backend " + run + ": cannot bind"} {
		if !strings.Contains(err.Error(), want) {
			return fmt.Errorf("start error: wanted %q in it, got %q", want, err)
		}
	}
	// Starting postgres and redis on a busy engine, then three quick failures
	// 0.2 s and 0.4 s apart: minutes at most, never an endless retry.
	if elapsed > 3*time.Minute {
		return fmt.Errorf("start: wanted the error within 3m, got it after %s", elapsed)
	}
	return nil
}

// After redis stops, Health reports it unhealthy and postgres healthy, without hanging.
//
// The engine stops the services bound to redis with it, so the backend and
// the frontend are reported unhealthy too.
//
// +check
func (m *Tests) HealthReportsStoppedService(ctx context.Context) error {
	return withStack(ctx, withPasswords(fixture("down")), func(cc *dagger.Commandcenter) error {
		if _, err := cc.Redis().Stop(ctx); err != nil {
			return fmt.Errorf("stop redis: %w", err)
		}
		begin := time.Now()
		report, err := cc.Health(ctx)
		if err != nil {
			return err
		}
		// The module's bound for a probe is 60 s, container start included; a
		// stopped service must not make it wait longer.
		if elapsed := time.Since(begin); elapsed > 90*time.Second {
			return fmt.Errorf("Health: wanted a report within 90s, got it after %s", elapsed)
		}
		rows := healthRows(report)
		want := map[string]string{"postgres": "healthy", "redis": "unhealthy", "backend": "unhealthy", "frontend": "unhealthy"}
		for s, status := range want {
			if rows[s][0] != status {
				return fmt.Errorf("Health of %s: wanted %s, got %v in:\n%s", s, status, rows[s], report)
			}
		}
		return nil
	})
}

// Three projects started at once through their stack services all come up healthy.
//
// +check
func (m *Tests) ProjectsStartTogether(ctx context.Context) error {
	projects := []string{"together-a", "together-b", "together-c"}
	stacks := make([]*dagger.Commandcenter, len(projects))
	errs := make([]error, len(projects))
	var wg sync.WaitGroup
	for i, p := range projects {
		stacks[i] = dag.Commandcenter(withPasswords(fixture(p)))
		wg.Go(func() { errs[i] = healthyStack(ctx, stacks[i], p) })
	}
	wg.Wait()
	for _, cc := range stacks {
		errs = append(errs, stop(ctx, cc))
	}
	return errors.Join(errs...)
}

// healthyStack starts a project's stack service and checks that Health
// reports every service healthy.
func healthyStack(ctx context.Context, cc *dagger.Commandcenter, project string) error {
	if _, err := cc.Stack().Start(ctx); err != nil {
		return fmt.Errorf("%s: start the stack: %w", project, err)
	}
	report, err := cc.Health(ctx)
	if err != nil {
		return fmt.Errorf("%s: health: %w", project, err)
	}
	rows := healthRows(report)
	for _, s := range appServices {
		if rows[s][0] != "healthy" {
			return fmt.Errorf("%s: wanted %s healthy, got %v in:\n%s", project, s, rows[s], report)
		}
	}
	return nil
}
