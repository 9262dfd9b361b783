package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/retry"
	"dagger/commandcenter/internal/stack"
)

// What is retried, and what is not:
//   - building a service's container (image pulls, package installs): a
//     failure to reach a registry is retried; a build step that exits non-zero
//     is not, because it would fail again the same way;
//   - starting a service: retried, since a server that exits at start may
//     well come up on the next try, unless the launcher refused it (another
//     instance runs, a PostgreSQL major mismatch, a failed migration: see
//     stack.Permanent), its command cannot be run at all (exit 126 or 127),
//     a worker's process exited by itself within its settle time (exit 78:
//     it would again, see internal/scripts/run.sh; a worker killed by a
//     signal is retried), or it never passed its health check in its start
//     period (a hang, which a new attempt would only repeat from the
//     beginning);
//   - validation errors never reach the retry loop: they are returned first.
//
// Every attempt is a new call to the engine: Service.start and the exec of a
// build step are never served from a cache after a failure.

// holds is how many times the module starts a service that it starts. The
// engine stops a service when as many releases as starts and bindings have
// reached it; a container that bound the previous instance of a restarted
// service releases it up to 10 s after it ends, and that release lands on the
// new instance, which has the same definition. The extra holds absorb those
// late releases; Stop stops a service whatever its count. They are taken
// at once: a start of a running service returns immediately.
const holds = 4

// A failed start's error ends with the service's last log lines, read
// within logTailTimeout.
const (
	startErrorLogLines = 20
	logTailTimeout     = 30 * time.Second
)

func (m *Commandcenter) retryPolicy() retry.Policy {
	base, _ := m.config().RetryDelay() // validated in New
	return retry.Policy{
		Attempts:  m.Settings.RetryAttempts,
		BaseDelay: base,
		MaxDelay:  stack.MaxRetryDelay,
		Jitter:    0.2,
	}
}

// build evaluates a service's container, retrying what can be transient.
func (m *Commandcenter) build(ctx context.Context, s stack.Service, c *dagger.Container) error {
	err := m.retryPolicy().Do(ctx, func(ctx context.Context) error {
		_, err := c.Sync(ctx)
		return permanentIfExec(err)
	})
	if err != nil {
		return fmt.Errorf("build %s: %w", s, withStderr(err))
	}
	return nil
}

// permanentIfExec marks a command that exited non-zero as permanent: it
// would fail the same way again.
func permanentIfExec(err error) error {
	var execErr *dagger.ExecError
	if errors.As(err, &execErr) {
		return retry.Permanent(err)
	}
	return err
}

// start starts a service and waits for its health check, with retry, then
// takes its extra holds. A failure names the service, how long the start
// took and the last lines of the service's log.
func (m *Commandcenter) start(ctx context.Context, s stack.Service, svc *dagger.Service) error {
	begin := time.Now()
	err := m.retryPolicy().Do(ctx, func(ctx context.Context) error {
		_, err := svc.Start(ctx)
		return classifyStart(m.config().StartPeriod(s), err)
	})
	if err != nil {
		return m.startError(ctx, s, time.Since(begin), err)
	}
	extra := make([]error, holds-1)
	var wg sync.WaitGroup
	for i := range extra {
		wg.Go(func() { _, extra[i] = svc.Start(ctx) })
	}
	wg.Wait()
	if err := errors.Join(extra...); err != nil {
		return fmt.Errorf("start %s: %w", s, withStderr(err))
	}
	if stack.IsWorker(s) {
		return m.checkWorkerRuns(ctx, s, begin)
	}
	return nil
}

// checkWorkerRuns reads worker s's state once its start returned: a start
// retried after the worker exited has been seen to return at once, with
// no process running (lab engine, v0.21.8), so the start fails unless its
// supervisor runs it.
func (m *Commandcenter) checkWorkerRuns(ctx context.Context, s stack.Service, begin time.Time) error {
	st := m.status(ctx, s)
	if st.State == stack.StateRunning {
		return nil
	}
	return m.startError(ctx, s, time.Since(begin),
		fmt.Errorf("its process does not run after its start (%s): %s", st.State, st.Message))
}

// classifyStart marks what no new attempt can change: a lock held by
// another instance, a PostgreSQL major mismatch, a command that cannot run,
// and a service that never passed its health check in its start period.
func classifyStart(period time.Duration, err error) error {
	var execErr *dagger.ExecError
	if !errors.As(err, &execErr) {
		return err
	}
	switch {
	case execErr.ExitCode == stack.ExitAlreadyRunning || execErr.ExitCode == stack.ExitMajorMismatch:
		return retry.Permanent(&refusedError{stderr: strings.TrimSpace(execErr.Stderr), err: err})
	case strings.Contains(err.Error(), "health check errored"):
		return retry.Permanent(fmt.Errorf("not healthy within its start period of %s: %w", period, err))
	case stack.Permanent(execErr.ExitCode):
		return retry.Permanent(err)
	}
	return err
}

// refusedError is a start that a launch script refused, with its reason:
// the reason alone is the message.
type refusedError struct {
	stderr string
	err    error
}

func (e *refusedError) Error() string { return e.stderr }
func (e *refusedError) Unwrap() error { return e.err }

// startError explains a failed start: the service, the time it took, the
// engine's error with the exec's stderr, and the service's last log lines,
// which hold what a server printed before a failed health check.
func (m *Commandcenter) startError(ctx context.Context, s stack.Service, took time.Duration, err error) error {
	var refused *refusedError
	if errors.As(err, &refused) {
		return fmt.Errorf("start %s: %w", s, refused)
	}
	tailCtx, cancel := context.WithTimeout(ctx, logTailTimeout)
	defer cancel()
	logs := ""
	if tail, terr := m.readLog(tailCtx, s, startErrorLogLines); terr == nil {
		logs = fmt.Sprintf("\nlast lines of its log (dagger call logs --service %s):\n%s", s, strings.TrimRight(tail, "\n"))
	}
	return fmt.Errorf("start %s: gave up after %s%s: %w%s", s, took.Round(time.Second), killedHint(err), withStderr(err), logs)
}

// killedHint explains a process that SIGKILL ended (exit 137) when nothing
// stopped it: on an engine without memory limits per container, that is
// the kernel's out-of-memory killer.
func killedHint(err error) string {
	var execErr *dagger.ExecError
	if errors.As(err, &execErr) && execErr.ExitCode == 137 {
		return " (the process was killed: is the engine's host out of memory?)"
	}
	return ""
}

// withStderr adds the last lines an exec printed on stderr to its error,
// since the engine's message only gives the command and exit code.
func withStderr(err error) error {
	var execErr *dagger.ExecError
	if !errors.As(err, &execErr) {
		return err
	}
	tail := stack.LastLines(execErr.Stderr, 10)
	if tail == "" || strings.Contains(err.Error(), tail) {
		return err
	}
	return &stderrError{err: err, stderr: tail}
}

type stderrError struct {
	err    error
	stderr string
}

func (e *stderrError) Error() string { return e.err.Error() + "\nstderr:\n" + e.stderr }
func (e *stderrError) Unwrap() error { return e.err }
