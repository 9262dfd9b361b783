package main

import (
	"context"
	"fmt"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// dockerBuild is the image of service s's own Dockerfile
// (--backend-dockerfile or --frontend-dockerfile), built with --source as
// its context, --docker-build-args and --docker-build-secrets.
func (m *Commandcenter) dockerBuild(s stack.Service) *dagger.Container {
	var args []dagger.BuildArg
	for _, a := range m.Settings.Dockerfile.Args() {
		args = append(args, dagger.BuildArg{Name: a[0], Value: a[1]})
	}
	return m.Source.DockerBuild(dagger.DirectoryDockerBuildOpts{
		Dockerfile: m.Settings.Dockerfile.Path(s),
		BuildArgs:  args,
		Secrets:    m.BuildSecrets,
	})
}

// withImageUsers returns the module with what it reads from the images of
// the app's own Dockerfiles: the backend's user (see stack.ImageUser), and
// the frontend's user, command and HTTP client (see
// stack.ReadFrontendImage). It builds them: a Dockerfile that is missing
// or fails fails here, before anything starts.
func (m *Commandcenter) withImageUsers(ctx context.Context) (*Commandcenter, error) {
	m, err := m.withBackendImageUser(ctx)
	if err != nil {
		return nil, err
	}
	return m.withFrontendImage(ctx)
}

func (m *Commandcenter) withBackendImageUser(ctx context.Context) (*Commandcenter, error) {
	if !m.Settings.Dockerfile.Builds(stack.Backend) {
		return m, nil
	}
	out, err := m.readImage(ctx, stack.Backend, "id -u; id -g")
	if err != nil {
		return nil, err
	}
	user, root, err := stack.ImageUser(out)
	if err != nil {
		return nil, fmt.Errorf("--backend-dockerfile %s: %w", m.Settings.Dockerfile.Backend, err)
	}
	next := *m
	next.Settings.BackendUser = user
	next.Settings.RootImage = root
	return &next, nil
}

func (m *Commandcenter) withFrontendImage(ctx context.Context) (*Commandcenter, error) {
	if !m.Settings.Dockerfile.Builds(stack.Frontend) {
		return m, nil
	}
	out, err := m.readImage(ctx, stack.Frontend, stack.FrontendImageScript)
	if err != nil {
		return nil, err
	}
	img := m.dockerBuild(stack.Frontend)
	entrypoint, err := img.Entrypoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the ENTRYPOINT of --frontend-dockerfile's image: %w", err)
	}
	cmd, err := img.DefaultArgs(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the CMD of --frontend-dockerfile's image: %w", err)
	}
	ports, err := exposedPorts(ctx, img)
	if err != nil {
		return nil, err
	}
	read, err := m.config().ReadFrontendImage(out, append(entrypoint, cmd...), ports)
	if err != nil {
		return nil, err
	}
	next := *m
	next.Settings.FrontendImage = read
	return &next, nil
}

// readImage builds service s's own image and runs script in it with sh,
// as the image's user, returning its output. A Dockerfile that is not in
// --source is refused first, naming its flag.
func (m *Commandcenter) readImage(ctx context.Context, s stack.Service, script string) (string, error) {
	flag, file := stack.DockerfileFlag(s), m.Settings.Dockerfile.Path(s)
	if err := m.require(ctx, file, dagger.ExistsTypeRegularType,
		"give "+flag+" the path of the "+string(s)+"'s Dockerfile inside --source"); err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	out, err := m.dockerBuild(s).WithExec([]string{"sh", "-c", script}).Stdout(ctx)
	if err != nil {
		return "", fmt.Errorf("build %s from %s %s: %w", s, flag, file, withStderr(err))
	}
	return out, nil
}

// exposedPorts are the ports an image EXPOSEs.
func exposedPorts(ctx context.Context, img *dagger.Container) ([]int, error) {
	ports, err := img.ExposedPorts(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the ports of --frontend-dockerfile's image: %w", err)
	}
	out := make([]int, 0, len(ports))
	for _, p := range ports {
		n, err := p.Port(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the ports of --frontend-dockerfile's image: %w", err)
		}
		out = append(out, n)
	}
	return out, nil
}

// dockerfileImage is service s's own image, as its user runs it: an
// image whose user is root runs as the module's app user, its working
// directory made readable (and its directories searchable) to it.
func (m *Commandcenter) dockerfileImage(ctx context.Context, s stack.Service) (*dagger.Container, error) {
	img := m.dockerBuild(s)
	root := m.Settings.RootImage
	if s == stack.Frontend {
		root = m.Settings.FrontendImage.Root
	}
	if !root {
		return img, nil
	}
	flag := stack.DockerfileFlag(s)
	dir, err := img.Workdir(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the working directory of %s's image: %w", flag, err)
	}
	if dir == "" || dir == "/" {
		return nil, fmt.Errorf("%s %s: the image runs as root from /, and the module runs it as its app user (%s): set a WORKDIR for the app, or a non-root USER",
			flag, m.Settings.Dockerfile.Path(s), stack.User(stack.Backend))
	}
	return img.WithUser("0").
		WithExec([]string{"chmod", "-R", "a+rX", dir}).
		WithUser(m.user(s)), nil
}
