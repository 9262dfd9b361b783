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
			_, err := with(func(*dagger.CommandcenterOpts) {}).Restart(ctx, "db")
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
		{"env item without =", func() error {
			_, err := with(func(o *dagger.CommandcenterOpts) { o.BackendEnv = []string{"LOG_LEVEL=debug", "sk-value-not-to-show"} }).Project(ctx)
			return notShowing(err, "sk-value-not-to-show")
		}, "--backend-env item 2 has no '=': write KEY=VALUE"},
		{"reserved env item", func() error {
			_, err := with(func(o *dagger.CommandcenterOpts) { o.BackendEnv = []string{"DATABASE_URL=postgresql://elsewhere"} }).Project(ctx)
			return err
		}, "--backend-env item 1: DATABASE_URL is set by the module and cannot be changed"},
		{"env file line that does not parse", func() error {
			_, err := with(func(o *dagger.CommandcenterOpts) {
				o.BackendEnvFile = dag.SetSecret("bad-env-file", "GOOD=1\nsk-value-not-to-show\n")
			}).Start().Project(ctx)
			return notShowing(err, "sk-value-not-to-show")
		}, "--backend-env-file line 2: no '=': write KEY=VALUE"},
		{"unknown frontend mode", func() error {
			_, err := with(func(o *dagger.CommandcenterOpts) { o.FrontendMode = "prod" }).Project(ctx)
			return err
		}, `--frontend-mode "prod" is unknown: want dev`},
		{"relative health path", func() error {
			_, err := with(func(o *dagger.CommandcenterOpts) { o.BackendHealthPath = "health" }).Project(ctx)
			return err
		}, `--backend-health-path "health" must be a URL path starting with '/'`},
	}
	// The session's first call of the module loads it, which a loaded
	// engine takes minutes to do: that is not the bad input's time.
	if _, err := with(func(*dagger.CommandcenterOpts) {}).Project(ctx); err != nil {
		return fmt.Errorf("load the module with good inputs: %w", err)
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
		if elapsed > badInputBound {
			return fmt.Errorf("%s: wanted the error at once, got it after %s", c.name, elapsed)
		}
	}
	return nil
}

// badInputBound is a bound that only a retry or a hang reaches: the cases
// run with 10 attempts 30 s apart and more (a retried failure also names
// its attempts, which fails the case by itself), and one call of a loaded
// engine took 59 s (Restart's, which reads the project's running record
// first) and 1 min 57 s with the module's load.
const badInputBound = 4 * time.Minute

// notShowing turns an error that shows value into one saying so.
func notShowing(err error, value string) error {
	if err != nil && strings.Contains(err.Error(), value) {
		return fmt.Errorf("the error shows the value it should hide: %w", err)
	}
	return err
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

// noCorepackImage is an official node image without pnpm or corepack:
// Node.js stopped shipping corepack with version 25.
const noCorepackImage = "node:26-alpine"

// A pnpm lockfile on a node image that has neither pnpm nor corepack fails the start at once, naming the fix.
//
// +check
func (m *Tests) MissingPackageManagerIsNamed(ctx context.Context) error {
	out, err := dag.Container().From(noCorepackImage).WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"sh", "-c", "command -v pnpm || command -v corepack || echo none"}).Stdout(ctx)
	if err != nil {
		return skip("MissingPackageManagerIsNamed", fmt.Sprintf("%s cannot be run here: %v", noCorepackImage, explain(err)))
	}
	if has := strings.TrimSpace(out); has != "none" {
		return skip("MissingPackageManagerIsNamed", fmt.Sprintf("%s here has %s: the case needs an image without pnpm and corepack", noCorepackImage, has))
	}
	opts := withPasswords(fixture("badinput"))
	opts.RetryAttempts, opts.RetryBaseDelay = 10, "30s"
	opts.NodeImage = noCorepackImage
	opts.Source = dag.CurrentModule().Source().Directory("testdata/app").
		WithNewFile("frontend/pnpm-lock.yaml", "lockfileVersion: '9.0'\n")
	begin := time.Now()
	_, err = dag.Commandcenter(opts).Start().Project(ctx)
	const want = "the frontend's pnpm-lock.yaml needs pnpm, and this node image has neither pnpm nor corepack"
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "attempt") {
		return fmt.Errorf("start with a pnpm lockfile on %s: wanted %q at once, got %v", noCorepackImage, want, err)
	}
	if took := time.Since(begin); took > 60*time.Second {
		return fmt.Errorf("start with a pnpm lockfile on %s: wanted the error at once, got it after %s", noCorepackImage, took)
	}
	return nil
}
