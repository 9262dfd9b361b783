package main

import (
	"context"
	"strconv"
	"strings"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// backendContainer is the backend, bound to deps (postgres and redis).
func (m *Commandcenter) backendContainer(ctx context.Context, deps map[stack.Service]*dagger.Service) (*dagger.Container, error) {
	c, err := m.backendApp(ctx, deps)
	if err != nil {
		return nil, err
	}
	return m.runtime(c, stack.Backend, m.config()), nil
}

// workerContainer is worker s: the backend's build, environment, secrets
// and bindings, running the worker's command.
func (m *Commandcenter) workerContainer(ctx context.Context, s stack.Service, deps map[stack.Service]*dagger.Service) (*dagger.Container, error) {
	c, err := m.backendApp(ctx, deps)
	if err != nil {
		return nil, err
	}
	return m.runtime(c, s, m.config()), nil
}

// backendApp is the backend's build with its secrets and bindings, before
// it becomes the backend or a worker.
func (m *Commandcenter) backendApp(ctx context.Context, deps map[stack.Service]*dagger.Service) (*dagger.Container, error) {
	built, err := m.backendImage(ctx)
	if err != nil {
		return nil, err
	}
	passwords, err := m.withAppPasswords(ctx)
	if err != nil {
		return nil, err
	}
	user := m.user(stack.Backend)
	files := m.secretFiles()
	c := built.
		With(withScripts("backend-env", "secret", "url", "app")).
		With(withVolume(stack.StateDir, stack.Volume(m.Project, "backend-state"), user)).
		With(passwords).
		With(withSecret(files.SecretKey, m.SecretKey, user)).
		With(withSecret(files.BackendEnvFile, m.BackendEnvFile, user)).
		With(m.checkEnvFile).
		WithServiceBinding(string(stack.Postgres), deps[stack.Postgres]).
		WithServiceBinding(string(stack.Redis), deps[stack.Redis])
	return c, nil
}

// backendImage is the backend's build: its own Dockerfile's image, or the
// module's build on --python-image.
func (m *Commandcenter) backendImage(ctx context.Context) (*dagger.Container, error) {
	if m.Settings.Dockerfile.Builds(stack.Backend) {
		return m.dockerfileImage(ctx, stack.Backend)
	}
	if err := m.checkBackend(ctx); err != nil {
		return nil, err
	}
	inputs, err := m.installInputs(ctx, stack.Requirements, m.Settings.BackendPath, "requirements.txt")
	if err != nil {
		return nil, err
	}
	return m.backendBuild(inputs), nil
}

// checkEnvFile parses --backend-env-file as the launcher will, as a build
// step: a bad line fails the build, naming the line, before anything
// starts. The file's contents never leave the container.
func (m *Commandcenter) checkEnvFile(c *dagger.Container) *dagger.Container {
	if m.BackendEnvFile == nil {
		return c
	}
	return c.WithEnvVariable("COMMANDCENTER_RESERVED_ENV", strings.Join(m.config().ReservedEnv(stack.Backend), " ")).
		WithUser(m.user(stack.Backend)).
		WithExec([]string{stack.Script("app"), "--check", m.secretFiles().BackendEnvFile})
}

// backendBuild installs the backend's requirements into a virtualenv before
// copying its source, so a source-only change re-runs no install: the
// install sees requirements.txt, the files it includes and the local
// packages they name (-e ../libs/x), each where pip looks for it from
// /app, and nothing else.
func (m *Commandcenter) backendBuild(inputs installInputs) *dagger.Container {
	src := m.Source.Directory(m.Settings.BackendPath)
	uid := strconv.Itoa(stack.AppUID)
	return m.base(m.Settings.Images.Python).
		WithUser("0").
		WithExec([]string{"sh", "-c", `if command -v useradd >/dev/null; then
	groupadd --gid "$1" app && useradd --uid "$1" --gid "$1" --home-dir /home/app --create-home --shell /usr/sbin/nologin app
else
	addgroup -g "$1" app && adduser -D -u "$1" -G app -h /home/app -s /sbin/nologin app
fi`, "sh", uid}).
		With(m.withSystemPackages).
		WithEnvVariable("PIP_DISABLE_PIP_VERSION_CHECK", "1").
		WithEnvVariable("VIRTUAL_ENV", stack.VenvDir).
		WithEnvVariable("PATH", stack.VenvDir+"/bin:${PATH}", dagger.ContainerWithEnvVariableOpts{Expand: true}).
		WithExec([]string{"python3", "-m", "venv", stack.VenvDir}).
		With(m.withInstallInputs(inputs, "")).
		WithWorkdir(stack.AppDir).
		WithMountedCache("/var/cache/pip", dag.CacheVolume("commandcenter-pip")).
		With(withSecretVariable("PIP_INDEX_URL", m.PipIndexURL)).
		WithExec([]string{"sh", "-c", pipInstall}).
		WithoutSecretVariable("PIP_INDEX_URL").
		WithoutMount("/var/cache/pip").
		WithDirectory(stack.AppDir, src, dagger.ContainerWithDirectoryOpts{Exclude: []string{".venv", "**/__pycache__"}})
}

// withSystemPackages installs --backend-system-packages, as root, in a layer
// that names no project: every project with the same list and image shares it.
func (m *Commandcenter) withSystemPackages(c *dagger.Container) *dagger.Container {
	if len(m.Settings.SystemPackages) == 0 {
		return c
	}
	return c.With(withScripts("system-packages")).
		WithExec(append([]string{stack.Script("system-packages")}, m.Settings.SystemPackages...))
}

// pipInstall installs requirements.txt. An index given as plain http
// (--pip-index-url, a mirror inside the network) is trusted, as pip
// otherwise refuses it; the URL stays in the secret variable.
const pipInstall = `case ${PIP_INDEX_URL:-} in
http://*) h=${PIP_INDEX_URL#http://}; h=${h%%/*}; h=${h##*@}; PIP_TRUSTED_HOST=${h%%:*}; export PIP_TRUSTED_HOST ;;
esac
exec pip install --cache-dir /var/cache/pip -r ` + stack.AppDir + `/requirements.txt`
