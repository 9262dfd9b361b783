package main

import (
	"context"
	"fmt"
	"path"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// withApp returns the module with the app's workers, read from the
// Procfile, and what it reads from the app's own images (see
// withImageUsers): the functions that build the project's services read
// them first.
func (m *Commandcenter) withApp(ctx context.Context) (*Commandcenter, error) {
	if m.Settings.WorkersRead {
		return m, nil
	}
	m, err := m.withWorkers(ctx)
	if err != nil {
		return nil, err
	}
	return m.withImageUsers(ctx)
}

// withRunning returns the module with the workers of the source's
// Procfile and those that the project's last start recorded, and the
// backend's user it recorded (see stack.Running), for the functions that
// act on its running services: they find them from any terminal, with or
// without the source. A project that never started on this engine has no
// record.
func (m *Commandcenter) withRunning(ctx context.Context) (*Commandcenter, error) {
	if m.Settings.WorkersRead {
		return m, nil
	}
	m, err := m.withWorkers(ctx)
	if err != nil {
		return nil, err
	}
	text, err := m.recorder().
		WithEnvVariable("COMMANDCENTER_READ_AT", now()).
		WithExec([]string{"sh", "-c", `cat "$1" 2>/dev/null || true`, "sh", runningFile}).
		Stdout(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the project's record of its running app: %w", withStderr(err))
	}
	running, found, err := stack.ParseRunning(text)
	if err != nil || !found {
		return m, nil
	}
	next := *m
	next.Settings.Config = running.Apply(m.config())
	return &next, nil
}

// runningDir holds the project's record of its running app, on its own
// volume; runningFile is the record.
const (
	runningDir  = "/var/lib/commandcenter-running"
	runningFile = runningDir + "/app"
)

// recorder is a container with the project's record volume, as the
// module's app user.
func (m *Commandcenter) recorder() *dagger.Container {
	user := stack.User(stack.Backend)
	return dag.Container().
		From(m.Settings.Images.Python).
		WithUser(user).
		With(withVolume(runningDir, stack.Volume(m.Project, "running"), user))
}

// recordRunning writes what a start of the app runs (see withRunning),
// before it starts.
func (m *Commandcenter) recordRunning(ctx context.Context) error {
	_, err := m.recorder().
		WithEnvVariable("COMMANDCENTER_RECORD_AT", now()).
		WithExec([]string{"sh", "-c", `printf %s "$2" >"$1.new" && mv "$1.new" "$1"`, "sh",
			runningFile, stack.RunningOf(m.config()).Render()}).
		Sync(ctx)
	if err != nil {
		return fmt.Errorf("record the project's running app: %w", withStderr(err))
	}
	return nil
}

// withWorkers returns the module with the app's workers, read from the
// Procfile (--procfile, or the backend's own), so that every terminal and
// the hub that use the same source see the same workers. A Procfile that
// does not parse fails before anything starts, naming its lines.
func (m *Commandcenter) withWorkers(ctx context.Context) (*Commandcenter, error) {
	file, given := m.Settings.Procfile, m.Settings.Procfile != ""
	if !given {
		file = path.Join(m.Settings.BackendPath, stack.Procfile)
	}
	found, err := m.Source.Exists(ctx, file, dagger.DirectoryExistsOpts{ExpectedType: dagger.ExistsTypeRegularType})
	if err != nil {
		return nil, fmt.Errorf("check %s in --source: %w", file, err)
	}
	out := *m
	out.Settings.WorkersRead = true
	switch {
	case !found && given:
		return nil, fmt.Errorf("--procfile %s not found in --source: give the path of the Procfile inside --source", file)
	case !found:
		return &out, nil
	}
	text, err := m.Source.File(file).Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s in --source: %w", file, err)
	}
	workers, err := stack.ParseProcfile(file, text)
	if err != nil {
		return nil, fmt.Errorf("the workers' Procfile (--procfile): %w", err)
	}
	out.Settings.Workers = workers
	return &out, nil
}
