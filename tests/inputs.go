package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"dagger/tests/internal/dagger"
)

// Each bad input gets a clear error that names the fix, at once and without any retry.
//
// +check
func (m *Tests) BadInputsFailAtOnce(ctx context.Context) error {
	app := dag.CurrentModule().Source().Directory("testdata/app")
	with := func(change func(*dagger.CommandcenterOpts)) *dagger.Commandcenter {
		opts := withPasswords(fixture("badinput"))
		// A retried failure would take minutes and say "failed N attempts".
		opts.RetryAttempts, opts.RetryBaseDelay = 10, "30s"
		change(&opts)
		return dag.Commandcenter(opts)
	}
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"unknown service for Restart", func() error {
			_, err := with(func(*dagger.CommandcenterOpts) {}).Restart("db").Project(ctx)
			return err
		}, `unknown service "db": want one of postgres, redis, backend, frontend`},
		{"unknown service for Logs", func() error {
			_, err := serviceLogs(ctx, with(func(*dagger.CommandcenterOpts) {}), "db", 10)
			return err
		}, `unknown service "db": want one of postgres, redis, backend, frontend, proxy`},
		{"port out of range", func() error {
			_, err := with(func(o *dagger.CommandcenterOpts) { o.PostgresPort = 70000 }).Project(ctx)
			return err
		}, "--postgres-port 70000 is out of range: want 1-65535"},
		{"duplicate ports", func() error {
			_, err := with(func(o *dagger.CommandcenterOpts) { o.FrontendPort = 8000 }).Project(ctx)
			return err
		}, "--frontend-port 8000 is also --backend-port"},
		{"invalid project name", func() error {
			_, err := with(func(o *dagger.CommandcenterOpts) { o.Project = "My_Project" }).Project(ctx)
			return err
		}, `--project "My_Project" is not a DNS label`},
		{"missing backend", func() error {
			_, err := with(func(o *dagger.CommandcenterOpts) { o.Source = app.WithoutDirectory("backend") }).Start().Project(ctx)
			return err
		}, "backend not found in --source"},
		{"missing requirements.txt", func() error {
			_, err := with(func(o *dagger.CommandcenterOpts) { o.Source = app.WithoutFile("backend/requirements.txt") }).Start().Project(ctx)
			return err
		}, "backend/requirements.txt not found in --source"},
		{"missing package.json", func() error {
			_, err := with(func(o *dagger.CommandcenterOpts) { o.Source = app.WithoutFile("frontend/package.json") }).Start().Project(ctx)
			return err
		}, "frontend/package.json not found in --source"},
		{"tail out of range", func() error {
			_, err := serviceLogs(ctx, with(func(*dagger.CommandcenterOpts) {}), "postgres", -1)
			return err
		}, "--tail -1 is out of range"},
	}
	for _, c := range cases {
		begin := time.Now()
		err := c.call()
		elapsed := time.Since(begin)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			return fmt.Errorf("%s: wanted an error containing %q, got %v", c.name, c.want, err)
		}
		if strings.Contains(err.Error(), "attempt") {
			return fmt.Errorf("%s: wanted no retry, got %q", c.name, err)
		}
		if elapsed > 60*time.Second {
			return fmt.Errorf("%s: wanted the error at once, got it after %s", c.name, elapsed)
		}
	}
	return nil
}

// Two projects in one session have distinct databases: a row written in one is absent from the other.
//
// +check
func (m *Tests) ProjectsAreIsolated(ctx context.Context) error {
	a := dag.Commandcenter(withPasswords(fixture("isolated-a")))
	b := dag.Commandcenter(withPasswords(fixture("isolated-b")))
	return errors.Join(checkIsolation(ctx, a, b), stop(ctx, a), stop(ctx, b))
}

func checkIsolation(ctx context.Context, a, b *dagger.Commandcenter) error {
	row := "only-in-a-" + nonce()
	setup := "CREATE TABLE IF NOT EXISTS notes (body text)"
	if _, err := psql(ctx, a, dbPassword("isolated-a"), setup+"; INSERT INTO notes VALUES ('"+row+"')"); err != nil {
		return err
	}
	if _, err := psql(ctx, b, dbPassword("isolated-b"), setup); err != nil {
		return err
	}
	for _, p := range []struct {
		name string
		cc   *dagger.Commandcenter
		want string
	}{{"isolated-a", a, "1"}, {"isolated-b", b, "0"}} {
		out, err := psql(ctx, p.cc, dbPassword(p.name), "SELECT count(*) FROM notes WHERE body = '"+row+"'")
		if err != nil {
			return err
		}
		if out != p.want {
			return fmt.Errorf("rows of %q in %s: wanted %s, got %s", row, p.name, p.want, out)
		}
	}
	return nil
}
