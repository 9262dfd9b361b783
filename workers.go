package main

import (
	"context"
	"fmt"
	"path"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// withWorkers returns the module with the app's workers, read from the
// Procfile (--procfile, or the backend's own): every function that acts on
// the project's services reads them first, so that every terminal and the
// hub see the same workers. A Procfile that does not parse fails before
// anything starts, naming its lines.
func (m *Commandcenter) withWorkers(ctx context.Context) (*Commandcenter, error) {
	if m.Settings.WorkersRead {
		return m, nil
	}
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
