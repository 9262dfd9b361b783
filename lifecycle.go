package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// stopGrace is how long a service has to exit after SIGTERM before it is killed.
const stopGrace = 10 * time.Second

// Start every service and return once all are healthy: postgres and redis in parallel, then the backend, then the frontend.
//
// Containers are built first; transient failures (an image pull, a server
// that exits) are retried with exponential backoff. The services keep
// running until Stop or the end of the engine session, so chain what comes
// next: `dagger call start health`. A service of the project that already
// runs elsewhere (another session, or other settings) fails the start at
// once: one instance of a project's service runs at a time.
//
// +cache="never"
func (m *Commandcenter) Start(ctx context.Context) (*Commandcenter, error) {
	if _, err := m.startServices(ctx, stack.Services); err != nil {
		return nil, err
	}
	return m, nil
}

// startServices builds the given app services, each once and in parallel,
// then starts them level by level, with retry. It returns their containers,
// and those of the services they bind, for binding more.
func (m *Commandcenter) startServices(ctx context.Context, services []stack.Service) (map[stack.Service]*dagger.Container, error) {
	containers, err := m.containers(ctx, services)
	if err != nil {
		return nil, err
	}
	if err := inParallel(services, func(s stack.Service) error {
		return m.build(ctx, s, containers[s])
	}); err != nil {
		return nil, err
	}
	for _, level := range stack.Levels() {
		level = slices.DeleteFunc(slices.Clone(level), func(s stack.Service) bool { return !slices.Contains(services, s) })
		if err := inParallel(level, func(s stack.Service) error {
			return m.start(ctx, s, containers[s].AsService())
		}); err != nil {
			return nil, err
		}
	}
	return containers, nil
}

// Stop the stack gracefully: the proxy, the frontend, the backend, then postgres and redis.
//
// Each service gets SIGTERM and 10 s to exit before it is killed. Stopping a
// service that is not running does nothing, and so does stopping one that
// --source cannot build (it was never started from it).
//
// +cache="never"
func (m *Commandcenter) Stop(ctx context.Context) (*Commandcenter, error) {
	built := map[stack.Service]*dagger.Container{}
	var order []stack.Service
	for _, s := range append([]stack.Service{stack.Proxy}, reversed(stack.Services)...) {
		_, err := m.containerOnce(ctx, s, built)
		var missing *sourceError
		switch {
		case errors.As(err, &missing):
			continue
		case err != nil:
			return nil, err
		}
		order = append(order, s)
	}
	if err := stopInOrder(ctx, order, built); err != nil {
		return nil, err
	}
	return m, nil
}

// Restart one service, with retry, then restart the services that depend on it.
//
// The engine stops a service's dependents when it exits, so restarting
// postgres or redis restarts the backend and the frontend too, and restarting
// the backend restarts the frontend. Dependents are stopped first, so
// postgres sees no client at shutdown. A running stack proxy exits with them:
// start it again.
//
// +cache="never"
func (m *Commandcenter) Restart(
	ctx context.Context,
	// postgres, redis, backend or frontend.
	service string,
) (*Commandcenter, error) {
	s, err := stack.Parse(service, stack.Services)
	if err != nil {
		return nil, err
	}
	affected := append([]stack.Service{s}, stack.Dependents(s)...)
	containers, err := m.containers(ctx, affected)
	if err != nil {
		return nil, err
	}
	if err := stopInOrder(ctx, reversed(affected), containers); err != nil {
		return nil, err
	}
	for _, a := range affected {
		if err := m.start(ctx, a, containers[a].AsService()); err != nil {
			return nil, fmt.Errorf("restart %s: %w", s, err)
		}
	}
	return m, nil
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
// stopGrace. The grace starts once the engine knows which service it is:
// naming a service can mean building its container first.
func stopService(ctx context.Context, svc *dagger.Service) error {
	if _, err := svc.Hostname(ctx); err != nil {
		return err
	}
	graceful, cancel := context.WithTimeout(ctx, stopGrace)
	defer cancel()
	_, err := svc.Stop(graceful)
	if err == nil || ctx.Err() != nil {
		return err
	}
	_, err = svc.Stop(ctx, dagger.ServiceStopOpts{Kill: true})
	return err
}

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
