package main

import (
	"context"
	"fmt"
	"path"

	"dagger/commandcenter/internal/dagger"
)

// checkBackend fails fast, with the fix in the message, when the source
// lacks what the backend's build and default command need.
func (m *Commandcenter) checkBackend(ctx context.Context) error {
	if err := m.require(ctx, m.Settings.BackendPath, dagger.ExistsTypeDirectoryType,
		"point --source at the app repository, or set --backend-path"); err != nil {
		return err
	}
	if err := m.require(ctx, path.Join(m.Settings.BackendPath, "requirements.txt"), dagger.ExistsTypeRegularType,
		`the backend is installed with "pip install -r requirements.txt": add the file (it may be empty)`); err != nil {
		return err
	}
	if len(m.Settings.BackendCommand) > 0 {
		return nil
	}
	return m.require(ctx, path.Join(m.Settings.BackendPath, "app", "main.py"), dagger.ExistsTypeRegularType,
		`the default command runs "uvicorn app.main:app": add the module, or set --backend-command`)
}

// checkFrontend fails fast when the frontend has no package.json, and
// returns the names in its directory, from which InstallFiles picks.
func (m *Commandcenter) checkFrontend(ctx context.Context) ([]string, error) {
	if err := m.require(ctx, m.Settings.FrontendPath, dagger.ExistsTypeDirectoryType,
		"point --source at the app repository, or set --frontend-path"); err != nil {
		return nil, err
	}
	if err := m.require(ctx, path.Join(m.Settings.FrontendPath, "package.json"), dagger.ExistsTypeRegularType,
		"the frontend is installed from its package.json: add it, or set --frontend-path"); err != nil {
		return nil, err
	}
	entries, err := m.Source.Directory(m.Settings.FrontendPath).Entries(ctx)
	if err != nil {
		return nil, fmt.Errorf("list %s in --source: %w", m.Settings.FrontendPath, err)
	}
	return entries, nil
}

// require fails with "<path> not found in --source: <fix>" unless the source
// holds p with the expected type.
func (m *Commandcenter) require(ctx context.Context, p string, kind dagger.ExistsType, fix string) error {
	ok, err := m.Source.Exists(ctx, p, dagger.DirectoryExistsOpts{ExpectedType: kind})
	if err != nil {
		return fmt.Errorf("check %s in --source: %w", p, err)
	}
	if !ok {
		return fmt.Errorf("%s not found in --source: %s", p, fix)
	}
	return nil
}
