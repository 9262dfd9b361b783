package main

import (
	"context"
	"fmt"
	"strings"

	"dagger/tests/internal/dagger"
)

// A kill is checked before what survives it: Dagger's Service.Stop returns
// nil when no instance of that definition runs, so a kill that did nothing
// would otherwise pass as one that left every row in place.

// crash is what a service's log shows around a kill: lines the new
// instance logs while it recovers, and lines of a graceful shutdown, which
// the killed instance's server must not have logged once ready (its last
// ready line: an instance's start may run temporary servers before, such
// as initdb's, that shut down gracefully).
type crash struct {
	recovered []string
	ready     string
	graceful  []string
}

var (
	// postgresCrash: the next start replays the WAL of the killed server.
	postgresCrash = crash{
		recovered: []string{"database system was not properly shut down", "redo done"},
		ready:     "database system is ready to accept connections",
		graceful:  []string{"shutdown request", "database system is shut down", "stopped from another session"},
	}
	// redisCrash: the next start loads the append-only file.
	redisCrash = crash{
		recovered: []string{"DB loaded from append only file"},
		ready:     "Ready to accept connections",
		graceful:  []string{"Received SIGTERM", "ready to exit", "stopped from another session"},
	}
)

// killAndStart kills service s of cc's project with SIGKILL, starts the
// project again, and proves that the kill happened: Status names a new
// instance of s, the new instance's log shows the recovery, and the killed
// one's log ends without a graceful shutdown.
func killAndStart(ctx context.Context, cc *dagger.Commandcenter, s string, svc *dagger.Service, c crash) error {
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
	return c.check(s, logs)
}

// check reads a service's log: the last instance's part must hold every
// recovery line, the part before it (the killed instance) no graceful one.
func (c crash) check(s, logs string) error {
	started, err := lastStart(logs, s)
	if err != nil {
		return fmt.Errorf("after the kill: %w", err)
	}
	killed, err := lastStart(strings.TrimSuffix(logs, started), s)
	if err != nil {
		return fmt.Errorf("the killed instance: %w", err)
	}
	at := strings.LastIndex(killed, c.ready)
	if at < 0 {
		return fmt.Errorf("%s logs of the killed instance: wanted %q, got:\n%s", s, c.ready, killed)
	}
	killed = killed[at:]
	for _, want := range c.recovered {
		if !strings.Contains(started, want) {
			return fmt.Errorf("%s logs after the kill: wanted %q from the new instance, got:\n%s", s, want, started)
		}
	}
	for _, unwanted := range c.graceful {
		if strings.Contains(killed, unwanted) {
			return fmt.Errorf("%s logs of the killed instance: wanted no graceful shutdown, got %q in:\n%s", s, unwanted, killed)
		}
	}
	return nil
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

// lastStart returns the part of a service's log that its last start wrote.
func lastStart(logs, s string) (string, error) {
	start := "[commandcenter] " + s + " starting as"
	at := strings.LastIndex(logs, start)
	if at < 0 {
		return "", fmt.Errorf("%s logs: wanted %q, got:\n%s", s, start, logs)
	}
	return logs[at:], nil
}
