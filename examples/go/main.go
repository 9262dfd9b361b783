// Examples of the commandcenter module, as shown on the Daggerverse.
//
// They run the offline fixture app of the module's tests, whose stdlib
// backend and dependency-free frontend need the two command overrides in
// app(). For your own FastAPI and Vite app, pass its repository as source
// and drop the overrides: the module then runs uvicorn and Vite.
package main

import (
	"context"
	"fmt"

	"dagger/examples/internal/dagger"
)

type Examples struct{}

// app is the module on an app repository, for one project.
func app(source *dagger.Directory, project string) *dagger.Commandcenter {
	return dag.Commandcenter(dagger.CommandcenterOpts{
		Source:          source,
		Project:         project,
		BackendCommand:  []string{"python3", "-m", "app.main"},
		FrontendCommand: []string{"npm", "run", "dev"},
	})
}

// The whole stack as one service: `dagger call -m examples/go commandcenter-stack up`.
//
// It serves PostgreSQL, Redis, the backend and the frontend on 5432, 6379,
// 8000 and 3000.
func (m *Examples) Commandcenter_Stack(
	// The app repository, with backend/ and frontend/.
	// +defaultPath="/tests/testdata/app"
	source *dagger.Directory,
) *dagger.Service {
	return app(source, "example-stack").Stack()
}

// Query the project's PostgreSQL from a client bound to it.
func (m *Examples) CommandcenterPostgres(
	ctx context.Context,
	// The database password, e.g. env:DB_PASSWORD.
	dbPassword *dagger.Secret,
) (string, error) {
	postgres := dag.Commandcenter(dagger.CommandcenterOpts{
		Project:    "example-postgres",
		DbPassword: dbPassword,
	}).Postgres()
	return dag.Container().
		From("postgres:16-alpine").
		WithServiceBinding("db", postgres).
		WithSecretVariable("PGPASSWORD", dbPassword).
		WithExec([]string{"psql", "-h", "db", "-U", "commandcenter", "-d", "commandcenter", "-tAc", "SHOW server_version"}).
		Stdout(ctx)
}

// Start every service, then report their health.
func (m *Examples) CommandcenterStart(
	ctx context.Context,
	// +defaultPath="/tests/testdata/app"
	source *dagger.Directory,
) (string, error) {
	return app(source, "example-start").Start().Health(ctx)
}

// Restart the backend in place in a running stack, wherever it runs, then stop the project: each returns what it did.
func (m *Examples) CommandcenterRestart(
	ctx context.Context,
	// +defaultPath="/tests/testdata/app"
	source *dagger.Directory,
) (string, error) {
	cc := app(source, "example-restart")
	if _, err := cc.Start().Project(ctx); err != nil {
		return "", err
	}
	restarted, err := cc.Restart(ctx, "backend")
	if err != nil {
		return "", err
	}
	stopped, err := cc.Stop(ctx)
	return restarted + stopped, err
}

// The project's status as JSON, for a program such as the CommandCenter hub.
func (m *Examples) CommandcenterStatus(
	ctx context.Context,
	// +defaultPath="/tests/testdata/app"
	source *dagger.Directory,
) (string, error) {
	return app(source, "example-start").Status(ctx)
}

// Read the last lines PostgreSQL printed.
func (m *Examples) CommandcenterLogs(
	ctx context.Context,
	// +defaultPath="/tests/testdata/app"
	source *dagger.Directory,
) (string, error) {
	cc := app(source, "example-logs").Start()
	return cc.Logs(ctx, "postgres", dagger.CommandcenterLogsOpts{Tail: 20})
}

// Call the backend from a client bound to it, as another service would.
func (m *Examples) CommandcenterBackend(
	ctx context.Context,
	// +defaultPath="/tests/testdata/app"
	source *dagger.Directory,
) (string, error) {
	return dag.Container().
		From("python:3.12-slim").
		WithServiceBinding("backend", app(source, "example-backend").Backend()).
		WithExec([]string{"python3", "-c", "import urllib.request; print(urllib.request.urlopen('http://backend:8000/health').read().decode())"}).
		Stdout(ctx)
}

// Run a one-off command beside the backend, with its environment: a migration, say.
//
// The backend-env script builds DATABASE_URL and the other variables from
// the secret files, as it does for the server.
func (m *Examples) CommandcenterContainer(
	ctx context.Context,
	// +defaultPath="/tests/testdata/app"
	source *dagger.Directory,
) (string, error) {
	out, err := app(source, "example-container").
		Container("backend").
		WithExec([]string{"commandcenter-backend-env", "python3", "-c",
			"import os, urllib.parse; u = urllib.parse.urlsplit(os.environ['DATABASE_URL']); print(u.hostname, u.port, u.path)"}).
		Stdout(ctx)
	if err != nil {
		return "", fmt.Errorf("one-off command: %w", err)
	}
	return out, nil
}

// Back up a project's database: `dagger call -m examples/go commandcenter-backup export --path db.dump`.
//
// The dump is in pg_dump's custom format; Restore, or pg_restore, reads it.
func (m *Examples) CommandcenterBackup(
	// +defaultPath="/tests/testdata/app"
	source *dagger.Directory,
) *dagger.File {
	return app(source, "example-backup").Backup()
}

// Copy a dump into another project's database, then report its health.
func (m *Examples) CommandcenterRestore(
	ctx context.Context,
	// +defaultPath="/tests/testdata/app"
	source *dagger.Directory,
	// A dump made by Backup.
	dump *dagger.File,
) (string, error) {
	return app(source, "example-restore").Restore(dagger.CommandcenterRestoreOpts{Dump: dump}).Health(ctx)
}
