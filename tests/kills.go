package main

import (
	"context"
	"fmt"

	"dagger/tests/internal/crashlog"
	"dagger/tests/internal/dagger"
)

// A kill is checked before what survives it: Dagger's Service.Stop returns
// nil when no instance of that definition runs, so a kill that did nothing
// would otherwise pass as one that left every row in place.

// killAndStart kills service s of cc's project with SIGKILL, starts the
// project again, and proves that the kill happened: Status names a new
// instance of s, the new instance's log shows the recovery, and the killed
// one's log ends without a graceful shutdown.
func killAndStart(ctx context.Context, cc *dagger.Commandcenter, s string, svc *dagger.Service, c crashlog.Crash) error {
	before, err := instanceOf(ctx, cc, s)
	if err != nil {
		return err
	}
	if _, err := svc.Stop(ctx, dagger.ServiceStopOpts{Kill: true}); err != nil {
		return fmt.Errorf("kill %s: %w", s, err)
	}
	if _, err := cc.Start().Project(ctx); err != nil {
		return fmt.Errorf("start after the kill of %s: %w", s, err)
	}
	after, err := instanceOf(ctx, cc, s)
	if err != nil {
		return err
	}
	if after == before {
		return fmt.Errorf("%s after the kill: wanted a new instance in status, got the killed one, %s", s, before)
	}
	logs, err := serviceLogs(ctx, cc, s, 5000)
	if err != nil {
		return err
	}
	return c.Check(s, logs)
}

// instanceOf returns the running instance of service s from Status.
func instanceOf(ctx context.Context, cc *dagger.Commandcenter, s string) (string, error) {
	svc, err := serviceStatus(ctx, cc, s)
	if err != nil {
		return "", err
	}
	if svc.State != "running" || svc.Instance == "" {
		return "", fmt.Errorf("status of %s: wanted a running instance, got %+v", s, svc)
	}
	return svc.Instance, nil
}
