package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/retry"
	"dagger/commandcenter/internal/stack"
)

// What is retried, and what is not:
//   - building a service's container (image pulls, package installs): a
//     failure to reach a registry is retried; a build step that exits non-zero
//     is not, because it would fail again the same way;
//   - starting a service and waiting for its health check: retried, since a
//     server that exits or answers late may well come up on the next try,
//     unless its command cannot be run at all (exit 126 or 127);
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

func (m *Commandcenter) retryPolicy() retry.Policy {
	base, _ := m.config().RetryDelay() // validated in New
	return retry.Policy{
		Attempts:  m.RetryAttempts,
		BaseDelay: base,
		MaxDelay:  stack.MaxRetryDelay,
		Jitter:    0.2,
	}
}

// build evaluates a service's container, retrying what can be transient.
func (m *Commandcenter) build(ctx context.Context, s stack.Service, c *dagger.Container) error {
	err := m.retryPolicy().Do(ctx, func(ctx context.Context) error {
		_, err := c.Sync(ctx)
		var execErr *dagger.ExecError
		if errors.As(err, &execErr) {
			return retry.Permanent(err)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("build %s: %w", s, withStderr(err))
	}
	return nil
}

// start starts a service and waits for its health check, with retry.
func (m *Commandcenter) start(ctx context.Context, s stack.Service, svc *dagger.Service) error {
	err := m.retryPolicy().Do(ctx, func(ctx context.Context) error {
		_, err := svc.Start(ctx)
		var execErr *dagger.ExecError
		if errors.As(err, &execErr) && (execErr.ExitCode == 126 || execErr.ExitCode == 127) {
			return retry.Permanent(err)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("start %s: %w", s, withStderr(err))
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
	return nil
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
