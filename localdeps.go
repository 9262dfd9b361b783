package main

import (
	"context"
	"fmt"
	"path"
	"strings"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// installInputs are the files an install reads from --source: the
// manifests, and the files of the local packages they name (a package's
// directory, a wheel, a tarball).
type installInputs struct {
	manifests []stack.Copy
	files     []stack.Copy
}

// installInputs follows the manifest of the app at appPath (see
// stack.ResolveInstall) and checks that every package it names is in
// --source, naming the manifest that needs it.
func (m *Commandcenter) installInputs(ctx context.Context, kind, appPath, manifest string) (installInputs, error) {
	read := func(p string) (string, error) {
		if err := m.require(ctx, p, dagger.ExistsTypeRegularType, "a requirements file names it (-r, -c): add it, or change the line"); err != nil {
			return "", err
		}
		return m.Source.File(p).Contents(ctx)
	}
	resolved, err := stack.ResolveInstall(kind, appPath, manifest, read)
	if err != nil {
		return installInputs{}, err
	}
	in := installInputs{manifests: resolved.Manifests}
	for _, pkg := range resolved.Packages {
		dir, err := m.Source.Exists(ctx, pkg.Source, dagger.DirectoryExistsOpts{ExpectedType: dagger.ExistsTypeDirectoryType})
		if err != nil {
			return installInputs{}, fmt.Errorf("check %s in --source: %w", pkg.Source, err)
		}
		if dir {
			files, err := m.filesOf(ctx, pkg)
			if err != nil {
				return installInputs{}, err
			}
			in.files = append(in.files, files...)
			continue
		}
		fix := fmt.Sprintf("%s names it as a local package: add it to --source, or change the line", path.Join(appPath, manifest))
		if err := m.require(ctx, pkg.Source, dagger.ExistsTypeRegularType, fix); err != nil {
			return installInputs{}, err
		}
		in.files = append(in.files, pkg)
	}
	return in, nil
}

// filesOf lists the files of a local package's directory, each with its
// place in the container.
func (m *Commandcenter) filesOf(ctx context.Context, pkg stack.Copy) ([]stack.Copy, error) {
	paths, err := m.Source.Directory(pkg.Source).Glob(ctx, "**")
	if err != nil {
		return nil, fmt.Errorf("list %s in --source: %w", pkg.Source, err)
	}
	var files []stack.Copy
	for _, p := range paths {
		if !strings.HasSuffix(p, "/") {
			files = append(files, stack.Copy{Source: path.Join(pkg.Source, p), Target: path.Join(pkg.Target, p)})
		}
	}
	return files, nil
}

// withInstallInputs copies an install's inputs into the container, owned
// by owner (empty: root), file by file: the install's cache key is then
// their content, and an edit elsewhere in --source re-runs no install (a
// copy of a sub-directory of --source is keyed on all of --source in
// Dagger v0.21: measured by the engine test LocalLibraryInstallsOnItsContent).
func (m *Commandcenter) withInstallInputs(in installInputs, owner string) dagger.WithContainerFunc {
	return func(c *dagger.Container) *dagger.Container {
		for _, f := range append(append([]stack.Copy{}, in.manifests...), in.files...) {
			c = c.WithFile(f.Target, m.Source.File(f.Source), dagger.ContainerWithFileOpts{Owner: owner})
		}
		return c
	}
}
