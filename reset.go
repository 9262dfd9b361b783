package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// Empty the project's volumes, so that its next start begins afresh: the database, Redis's data, generated secrets, the backend's state and the logs.
//
// It asks for a confirmation, --yes or --confirm <project>, and is refused
// while any service of the project runs, in any engine session: stop it
// first. The build caches are kept. Chain a start to begin again:
// `dagger call reset --yes stack up`.
//
// With a store, a reset deletes the store's copy of the project too, and
// says so: start over means start over. --local-only is the drill: it
// drops only this engine's copy, as a lost engine would, and keeps the
// store's, so that the next start restores from it. It first pushes to the
// store what this engine's copy holds and the store lacks (the last writes
// of a killed session), and deletes nothing when the store does not take
// them:
// `dagger call reset --local-only --yes stack up`.
//
// +cache="never"
func (m *Commandcenter) Reset(
	ctx context.Context,
	// Confirm that the project's data is to be deleted.
	// +optional
	yes bool,
	// Confirm by repeating the project's name instead of --yes.
	// +optional
	confirm string,
	// Keep the store's copy: drop only this engine's (needs --store).
	// +optional
	localOnly bool,
) (*Commandcenter, error) {
	plan, err := stack.PlanReset(m.Project, m.Settings.Store, yes, confirm, localOnly)
	if err != nil {
		return nil, err
	}
	m, err = m.withRunning(ctx)
	if err != nil {
		return nil, err
	}
	major, err := m.postgresMajor(ctx)
	if err != nil {
		return nil, err
	}
	cluster, err := m.checkStopped(ctx)
	if err != nil {
		return nil, err
	}
	if plan.StoreCommand != "" {
		if _, err := m.storeRun(ctx, plan.StoreCommand); err != nil {
			return nil, plan.StoreFailed(m.Project, err)
		}
	}
	err = inParallel(m.config().Logged(), func(s stack.Service) error {
		return m.resetService(ctx, s, m.config().ResetMounts(s, major, cluster))
	})
	if err != nil {
		return nil, fmt.Errorf("reset project %q: %w", m.Project, err)
	}
	fmt.Fprintln(os.Stderr, stack.ResetReport(m.Project, m.Settings.Store, localOnly))
	return m, nil
}

// checkStopped fails, naming what runs, unless every service of the
// project is stopped. It returns the major version of the project's
// PostgreSQL cluster, if one was recorded.
func (m *Commandcenter) checkStopped(ctx context.Context) (cluster string, err error) {
	logged := m.config().Logged()
	states := make([]string, len(logged))
	err = inParallel(logged, func(s stack.Service) error {
		i := slices.Index(logged, s)
		out, err := m.reader(s).
			With(withScripts("lock")).
			WithEnvVariable("COMMANDCENTER_CHECK_AT", now()).
			WithExec([]string{"sh", "-c", `. commandcenter-lock
if cc_running "$1"; then echo "running since $(cc_started "$1")"; else cat "$cc_dir/postgres.major" 2>/dev/null || :; fi`, "sh", string(s)}).
			Stdout(ctx)
		states[i] = strings.TrimSpace(out)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("reset: check that the project is stopped: %w", withStderr(err))
	}
	return stack.Stopped(m.Project, logged, states)
}

// resetService empties the given volumes of s under s's lock
// (internal/scripts/reset.sh).
func (m *Commandcenter) resetService(ctx context.Context, s stack.Service, mounts []stack.Mount) error {
	c := m.reader(s).With(withScripts("lock", "reset")).
		WithEnvVariable("COMMANDCENTER_PROJECT", m.Project).
		WithEnvVariable("COMMANDCENTER_RESET_AT", now())
	args := []string{stack.Script("reset"), string(s)}
	for _, v := range mounts {
		c = c.With(withVolume(v.Path, v.Volume, v.Owner))
		args = append(args, v.Path)
	}
	_, err := c.WithExec(args).Sync(ctx)
	var execErr *dagger.ExecError
	if errors.As(err, &execErr) && execErr.ExitCode == stack.ExitAlreadyRunning {
		return errors.New(strings.TrimSpace(execErr.Stderr))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", s, withStderr(err))
	}
	return nil
}
