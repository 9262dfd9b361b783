package main

import (
	"context"
	"fmt"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// dockerBuild is the image of --backend-dockerfile, built with --source as
// its context, --docker-build-args and --docker-build-secrets.
func (m *Commandcenter) dockerBuild() *dagger.Container {
	var args []dagger.BuildArg
	for _, a := range m.Settings.Dockerfile.Args() {
		args = append(args, dagger.BuildArg{Name: a[0], Value: a[1]})
	}
	return m.Source.DockerBuild(dagger.DirectoryDockerBuildOpts{
		Dockerfile: m.Settings.Dockerfile.Backend,
		BuildArgs:  args,
		Secrets:    m.BuildSecrets,
	})
}

// withImageUser returns the module with the user that the backend's own
// image runs as (see stack.ImageUser). It builds the image: a Dockerfile
// that is missing or fails fails here, before anything starts.
func (m *Commandcenter) withImageUser(ctx context.Context) (*Commandcenter, error) {
	if !m.Settings.Dockerfile.Enabled() {
		return m, nil
	}
	file := m.Settings.Dockerfile.Backend
	if err := m.require(ctx, file, dagger.ExistsTypeRegularType,
		"give --backend-dockerfile the path of the backend's Dockerfile inside --source"); err != nil {
		return nil, fmt.Errorf("--backend-dockerfile: %w", err)
	}
	out, err := m.dockerBuild().
		WithExec([]string{"sh", "-c", "id -u; id -g"}).
		Stdout(ctx)
	if err != nil {
		return nil, fmt.Errorf("build backend from --backend-dockerfile %s: %w", file, withStderr(err))
	}
	user, root, err := stack.ImageUser(out)
	if err != nil {
		return nil, fmt.Errorf("--backend-dockerfile %s: %w", file, err)
	}
	next := *m
	next.Settings.BackendUser = user
	next.Settings.RootImage = root
	return &next, nil
}

// dockerfileImage is the backend's own image, as its user runs it: an
// image whose user is root runs as the module's app user, its working
// directory made readable (and its directories searchable) to it.
func (m *Commandcenter) dockerfileImage(ctx context.Context) (*dagger.Container, error) {
	img := m.dockerBuild()
	if !m.Settings.RootImage {
		return img, nil
	}
	dir, err := img.Workdir(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the working directory of --backend-dockerfile's image: %w", err)
	}
	if dir == "" || dir == "/" {
		return nil, fmt.Errorf("--backend-dockerfile %s: the image runs as root from /, and the module runs it as its app user (%s): set a WORKDIR for the app, or a non-root USER",
			m.Settings.Dockerfile.Backend, stack.User(stack.Backend))
	}
	return img.WithUser("0").
		WithExec([]string{"chmod", "-R", "a+rX", dir}).
		WithUser(m.user(stack.Backend)), nil
}
