package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"dagger/tests/internal/dagger"
)

// A row written before Restart("postgres") is still there after it.
//
// +check
func (m *Tests) RestartKeepsPostgresData(ctx context.Context) error {
	const project = "persist"
	return withStack(ctx, withPasswords(fixture(project)), func(cc *dagger.Commandcenter) error {
		row := "kept-" + nonce()
		if _, err := psql(ctx, cc, dbPassword(project),
			"CREATE TABLE IF NOT EXISTS notes (body text); INSERT INTO notes VALUES ('"+row+"')"); err != nil {
			return err
		}
		if _, err := cc.Restart("postgres").Project(ctx); err != nil {
			return fmt.Errorf("restart postgres: %w", err)
		}
		out, err := psql(ctx, cc, dbPassword(project), "SELECT count(*) FROM notes WHERE body = '"+row+"'")
		if err != nil {
			return err
		}
		if out != "1" {
			return fmt.Errorf("rows after the restart: wanted 1, got %q", out)
		}
		return nil
	})
}

// Restart("postgres") restarts the backend and the frontend, which come back healthy.
//
// +check
func (m *Tests) RestartRestartsDependents(ctx context.Context) error {
	return withStack(ctx, withPasswords(fixture("dependents")), func(cc *dagger.Commandcenter) error {
		before, err := startCounts(ctx, cc)
		if err != nil {
			return err
		}
		if _, err := cc.Restart("postgres").Project(ctx); err != nil {
			return fmt.Errorf("restart postgres: %w", err)
		}
		after, err := startCounts(ctx, cc)
		if err != nil {
			return err
		}
		for _, s := range []string{"postgres", "backend", "frontend"} {
			if after[s] != before[s]+1 {
				return fmt.Errorf("%s starts: wanted %d after the restart, got %d", s, before[s]+1, after[s])
			}
		}
		if after["redis"] != before["redis"] {
			return fmt.Errorf("redis starts: wanted %d (redis does not depend on postgres), got %d", before["redis"], after["redis"])
		}
		h, err := getBackendHealth(ctx, cc)
		if err != nil {
			return err
		}
		if h.Status != "ok" || h.Postgres != "ok" {
			return fmt.Errorf("/health after the restart: wanted status and postgres ok, got %+v", h)
		}
		report, err := cc.Health(ctx)
		if err != nil {
			return err
		}
		for s, row := range healthRows(report) {
			if row[0] != "healthy" {
				return fmt.Errorf("Health after the restart: wanted %s healthy, got %v", s, row)
			}
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
