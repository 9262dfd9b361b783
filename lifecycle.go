package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// Start every service and return once all are healthy: postgres and redis in parallel, then the backend and its workers (see --procfile), then the frontend.
//
// Containers are built first; transient failures (an image pull, a server
// that exits) are retried with exponential backoff. The services keep
// running until Stop or the end of the engine session, so chain what comes
// next: `dagger call start health`. A service of the project that already
// runs elsewhere (another session, or other settings) fails the start
// within about 10 s, without retry: one instance of a project's service
// runs at a time; `stop` ends the other one from any terminal.
//
// +cache="never"
func (m *Commandcenter) Start(ctx context.Context) (*Commandcenter, error) {
	m, err := m.withApp(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := m.startServices(ctx, m.config().Services()); err != nil {
		return nil, err
	}
	return m, nil
}

// startServices builds the given app services, each once and in parallel,
// then starts them level by level, with retry. It returns their containers,
// and those of the services they bind, for binding more.
func (m *Commandcenter) startServices(ctx context.Context, services []stack.Service) (map[stack.Service]*dagger.Container, error) {
	if slices.Contains(services, stack.Postgres) {
		if err := m.checkStore(ctx); err != nil {
			return nil, err
		}
		major, err := m.postgresMajor(ctx)
		if err != nil {
			return nil, err
		}
		if err := m.carryFamily(ctx, major); err != nil {
			return nil, err
		}
	}
	containers, err := m.containers(ctx, services)
	if err != nil {
		return nil, err
	}
	if err := m.buildAll(ctx, services, containers); err != nil {
		return nil, err
	}
	if slices.Contains(services, stack.Backend) {
		if err := m.recordRunning(ctx); err != nil {
			return nil, err
		}
	}
	var announced sync.WaitGroup
	defer announced.Wait()
	for _, level := range stack.Levels(services) {
		if err := inParallel(level, func(s stack.Service) error {
			return m.start(ctx, s, containers[s].AsService())
		}); err != nil {
			return nil, err
		}
		if slices.Contains(level, stack.Postgres) {
			announced.Go(func() { m.announceDatabase(ctx) })
		}
	}
	return containers, nil
}

// buildAll builds the given services in parallel. A service whose build
// fails because one it binds failed is not reported: its error is its
// dependency's, which is reported once, as that service's.
func (m *Commandcenter) buildAll(ctx context.Context, services []stack.Service, containers map[stack.Service]*dagger.Container) error {
	errs := make([]error, len(services))
	_ = inParallel(services, func(s stack.Service) error {
		errs[slices.Index(services, s)] = m.build(ctx, s, containers[s])
		return nil
	})
	var failed []stack.Service
	for i, err := range errs {
		if err != nil {
			failed = append(failed, services[i])
		}
	}
	own := stack.OwnFailures(failed)
	for i, s := range services {
		if !slices.Contains(own, s) {
			errs[i] = nil
		}
	}
	return errors.Join(errs...)
}

// announceDatabase says on stderr, which the CLI shows, when the running
// postgres made its database itself, empty: a project's first start, or a
// start after the engine lost the project's volumes; and when it restored
// it from the store. An empty database is never handed over in silence.
func (m *Commandcenter) announceDatabase(ctx context.Context) {
	st := m.status(ctx, stack.Postgres)
	switch {
	case st.NewDatabase:
		fmt.Fprintln(os.Stderr, stack.NewDatabaseWarning(m.Project, st.Initialized, m.Settings.Store))
	case st.Restored != nil && st.Restored.ThisInstance:
		fmt.Fprintln(os.Stderr, st.Restored.Describe(m.Project, m.Settings.Store.URL))
	}
}

// Stop the project's running services, whichever engine session runs them: the proxy, the frontend, the backend and its workers, then postgres and redis.
//
// Each service's supervisor gets the request through the project's volume
// at once and stops its server gracefully: PostgreSQL with a fast shutdown and
// a checkpoint, Redis after flushing its append-only file, uvicorn, Vite
// and nginx with their own graceful stop; any that is still up 10 s later
// is killed. It returns once they are down, and says what it stopped, or
// that nothing was running. A `stack up` that served them stops serving:
// its ports close, and the proxy's log says "stopped from another session".
// It needs only the project's settings, not its source: the workers are
// those that the project's last start recorded.
//
// +cache="never"
func (m *Commandcenter) Stop(ctx context.Context) (string, error) {
	m, err := m.withRunning(ctx)
	if err != nil {
		return "", err
	}
	var results []stack.RequestResult
	for _, level := range stack.StopLevels(m.config().Services()) {
		done := make([]stack.RequestResult, len(level))
		if err := inParallel(level, func(s stack.Service) error {
			var err error
			done[slices.Index(level, s)], err = m.request(ctx, "stop", s, stack.StopTimeout)
			return err
		}); err != nil {
			return "", err
		}
		results = append(results, done...)
	}
	return stack.StopReport(m.Project, results), nil
}

// Restart one service in place, where it runs, whichever engine session runs it, and report how long it took until healthy.
//
// Its supervisor stops the server gracefully (as Stop does) and runs it
// again in the same container: the address stays the same, so the services
// that depend on it keep running and reconnect. It returns once the
// service answers its health probe again. The server runs the build it
// started with: to run changed source, stop the project and start it again.
// A service that is not running is not started: the error says so.
//
// +cache="never"
func (m *Commandcenter) Restart(
	ctx context.Context,
	// postgres, redis, backend, frontend or a worker's name.
	service string,
) (string, error) {
	m, err := m.withRunning(ctx)
	if err != nil {
		return "", err
	}
	s, err := stack.Parse(service, m.config().Services())
	if err != nil {
		return "", err
	}
	out, err := m.restart(ctx, s)
	if err != nil || s != stack.Backend {
		return out, err
	}
	// The workers run the backend's build: they restart with it.
	for _, w := range m.config().Workers {
		more, err := m.restart(ctx, w.Name)
		if err != nil {
			return out, err
		}
		out += more
	}
	return out, nil
}

// restart restarts service s in place and says so, or fails when it does
// not run.
func (m *Commandcenter) restart(ctx context.Context, s stack.Service) (string, error) {
	res, err := m.request(ctx, "restart", s, stack.RestartTimeout(s))
	if err != nil {
		return "", err
	}
	if res.Result != stack.ResultRestarted {
		return "", fmt.Errorf("restart %s: %s; nothing was restarted: start it with `dagger call --project %s stack up`",
			s, res.Describe(), m.Project)
	}
	return res.Describe() + "\n", nil
}

// request asks the running instance of s to stop or restart, through its
// run volume (see internal/scripts/request.sh), and waits for the answer.
func (m *Commandcenter) request(ctx context.Context, action string, s stack.Service, timeout time.Duration) (stack.RequestResult, error) {
	out, err := m.prober(s).
		WithEnvVariable("COMMANDCENTER_REQUEST_AT", now()).
		WithExec([]string{stack.Script("request"), action, string(s), strconv.Itoa(int(timeout.Seconds())),
			"sh", "-c", m.probeScript(s)}).
		Stdout(ctx)
	var execErr *dagger.ExecError
	switch {
	case errors.As(err, &execErr) && execErr.ExitCode == stack.ExitNotRunning:
		return stack.RequestResult{Service: s, Result: stack.ResultNotRunning, Detail: stack.Summary(execErr.Stderr)}, nil
	case err != nil:
		return stack.RequestResult{}, fmt.Errorf("%s %s: %w", action, s, withStderr(err))
	}
	return stack.ParseRequestResult(s, out), nil
}

// containers builds the definitions of the given services, and of those
// they bind, each once, failing on bad input.
func (m *Commandcenter) containers(ctx context.Context, services []stack.Service) (map[stack.Service]*dagger.Container, error) {
	built := map[stack.Service]*dagger.Container{}
	for _, s := range services {
		if _, err := m.containerOnce(ctx, s, built); err != nil {
			return nil, err
		}
	}
	return built, nil
}

func stopInOrder(ctx context.Context, order []stack.Service, containers map[stack.Service]*dagger.Container) error {
	for _, s := range order {
		if err := stopService(ctx, containers[s].AsService()); err != nil {
			return fmt.Errorf("stop %s: %w", s, err)
		}
	}
	return nil
}

// stopService sends SIGTERM, and SIGKILL if the service is still up after
// stack.StopGrace. The grace starts once the engine knows which service it is:
// naming a service can mean building its container first.
func stopService(ctx context.Context, svc *dagger.Service) error {
	if _, err := svc.Hostname(ctx); err != nil {
		return err
	}
	graceful, cancel := context.WithTimeout(ctx, stack.StopGrace)
	defer cancel()
	_, err := svc.Stop(graceful)
	if err == nil || ctx.Err() != nil {
		return err
	}
	_, err = svc.Stop(ctx, dagger.ServiceStopOpts{Kill: true})
	return err
}

// now is the time, as a cache key that makes an exec run again.
func now() string { return time.Now().Format(time.RFC3339Nano) }

// inParallel runs f for each service at once and reports every failure.
func inParallel(services []stack.Service, f func(stack.Service) error) error {
	errs := make([]error, len(services))
	var wg sync.WaitGroup
	for i, s := range services {
		wg.Go(func() { errs[i] = f(s) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func reversed(services []stack.Service) []stack.Service {
	out := slices.Clone(services)
	slices.Reverse(out)
	return out
}
