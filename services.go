package main

import (
	"context"
	"strconv"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// healthCheck is how the engine waits for service s: its check runs every
// 100ms; failures within the start period (initdb, package imports, a
// loaded engine) do not count, and three more after that fail the start.
func healthCheck(s stack.Service) dagger.ContainerWithDockerHealthcheckOpts {
	return dagger.ContainerWithDockerHealthcheckOpts{
		StartPeriod:   stack.StartPeriod(s).String(),
		StartInterval: "100ms",
		Interval:      "5s",
		Timeout:       "5s",
		Retries:       3,
	}
}

// PostgreSQL server of the project, as the image's postgres user, with its data on the project's volume.
//
// Role and database are both "commandcenter". The password comes from
// --db-password, or is generated on first start (see New). It is started,
// with retry, before it is returned, and runs until Stop or the end of the
// session; only one instance of a project's postgres runs at a time, in any
// session.
//
// +up
// +cache="session"
func (m *Commandcenter) Postgres(ctx context.Context) (*dagger.Service, error) {
	return m.serve(ctx, stack.Postgres)
}

// Redis server of the project, as the image's redis user, with /data on the project's volume.
//
// It requires a password: --redis-password, or one generated on first
// start. Started with retry before it is returned, like Postgres.
//
// +up
// +cache="session"
func (m *Commandcenter) Redis(ctx context.Context) (*dagger.Service, error) {
	return m.serve(ctx, stack.Redis)
}

// Python backend, as the app user (uid 10001), bound to postgres and redis.
//
// It gets DATABASE_URL, REDIS_URL, SECRET_KEY and PROJECT_NAME, and serves
// on port 8000. It and what it binds are started with retry before it is
// returned.
//
// +up
// +cache="session"
func (m *Commandcenter) Backend(ctx context.Context) (*dagger.Service, error) {
	return m.serve(ctx, stack.Backend)
}

// Node frontend, as the image's node user, bound to the backend, serving on port 3000.
//
// It and what it binds are started with retry before it is returned.
//
// +up
// +cache="session"
func (m *Commandcenter) Frontend(ctx context.Context) (*dagger.Service, error) {
	return m.serve(ctx, stack.Frontend)
}

// The whole stack as one service: a non-root nginx proxy bound to the four services, exposing their ports.
//
// `dagger call stack up` serves PostgreSQL, Redis, the backend and the
// frontend on the host (5432, 6379, 8000 and 3000 by default). The four
// services are started first, as Start does: in dependency order,
// independent ones in parallel, each with retry.
//
// +up
// +cache="session"
func (m *Commandcenter) Stack(ctx context.Context) (*dagger.Service, error) {
	return m.serve(ctx, stack.Proxy)
}

// serve starts the app services that s needs, and s itself unless it is
// the proxy, with retry, and returns s: the engine then finds them running
// when it binds them, and starts nothing without the module's retry.
func (m *Commandcenter) serve(ctx context.Context, s stack.Service) (*dagger.Service, error) {
	containers, err := m.startServices(ctx, stack.Needs(s))
	if err != nil {
		return nil, err
	}
	if s == stack.Proxy {
		c, err := m.containerOnce(ctx, s, containers)
		if err != nil {
			return nil, err
		}
		return c.AsService(), nil
	}
	return containers[s].AsService(), nil
}

// The container a service runs in: image, user, mounts, bindings, environment and command (its default arguments).
//
// Use it to inspect a service or to run a one-off command beside it, e.g.
// a migration: `container --service backend with-exec --args
// commandcenter-backend-env,alembic,upgrade,head`.
func (m *Commandcenter) Container(
	ctx context.Context,
	// postgres, redis, backend, frontend or proxy.
	service string,
) (*dagger.Container, error) {
	s, err := stack.Parse(service, stack.Logged)
	if err != nil {
		return nil, err
	}
	return m.container(ctx, s)
}

func (m *Commandcenter) container(ctx context.Context, s stack.Service) (*dagger.Container, error) {
	return m.containerOnce(ctx, s, map[stack.Service]*dagger.Container{})
}

// containerOnce returns s's container from built, or builds it there: a
// dependent binds the container already built for its dependency, so one
// call checks the source and builds each definition at most once.
func (m *Commandcenter) containerOnce(ctx context.Context, s stack.Service, built map[stack.Service]*dagger.Container) (*dagger.Container, error) {
	if c, ok := built[s]; ok {
		return c, nil
	}
	deps, err := m.servicesOnce(ctx, bound(s), built)
	if err != nil {
		return nil, err
	}
	var c *dagger.Container
	switch s {
	case stack.Postgres:
		c, err = m.postgresContainer(ctx)
	case stack.Redis:
		c = m.redisContainer()
	case stack.Backend:
		c, err = m.backendContainer(ctx, deps)
	case stack.Frontend:
		c, err = m.frontendContainer(ctx, deps[stack.Backend])
	default:
		c = m.proxyContainer(deps)
	}
	if err != nil {
		return nil, err
	}
	built[s] = c
	return c, nil
}

// bound lists the services that s binds: its dependencies, or every app
// service for the proxy.
func bound(s stack.Service) []stack.Service {
	if s == stack.Proxy {
		return stack.Services
	}
	return stack.Dependencies(s)
}

// servicesOnce returns the given services, their containers taken from or added to built.
func (m *Commandcenter) servicesOnce(ctx context.Context, services []stack.Service, built map[stack.Service]*dagger.Container) (map[stack.Service]*dagger.Service, error) {
	out := make(map[stack.Service]*dagger.Service, len(services))
	for _, s := range services {
		c, err := m.containerOnce(ctx, s, built)
		if err != nil {
			return nil, err
		}
		out[s] = c.AsService()
	}
	return out, nil
}

// base is a service's image, labelled with the project so that each
// project's containers are distinct definitions.
func (m *Commandcenter) base(s stack.Service, image string) *dagger.Container {
	return dag.Container().
		From(image).
		WithLabel("org.commandcenter.project", m.Project).
		WithLabel("org.commandcenter.service", string(s))
}

// runtime turns a built container into service s of the configuration cfg:
// its user, run volume, environment, port, health check and command.
func (m *Commandcenter) runtime(c *dagger.Container, s stack.Service, cfg stack.Config) *dagger.Container {
	user := stack.User(s)
	c = c.With(withScripts("run", "lock")).
		WithUser(user).
		With(m.withRunVolume(s))
	for _, e := range cfg.Env(s, m.secretFiles()) {
		c = c.WithEnvVariable(e.Name, e.Value)
	}
	if s == stack.Proxy {
		for _, r := range cfg.Routes() {
			c = c.WithExposedPort(r.Listen)
		}
	} else {
		c = c.WithExposedPort(stack.InternalPort(s)).
			WithDockerHealthcheck(stack.HealthCheck(s), healthCheck(s))
	}
	return c.WithoutEntrypoint().WithDefaultArgs(cfg.Command(s))
}

func (m *Commandcenter) postgresContainer(ctx context.Context) (*dagger.Container, error) {
	major, err := m.postgresMajor(ctx)
	if err != nil {
		return nil, err
	}
	cfg := m.config()
	cfg.PostgresMajor = major
	c := m.base(stack.Postgres, m.PostgresImage).
		With(withScripts("postgres", "secret")).
		With(m.withPGData(major)).
		With(m.withDBPassword(stack.User(stack.Postgres), stack.User(stack.Postgres)))
	return m.runtime(c, stack.Postgres, cfg), nil
}

func (m *Commandcenter) redisContainer() *dagger.Container {
	user := stack.User(stack.Redis)
	c := m.base(stack.Redis, m.RedisImage).
		With(withScripts("redis", "secret")).
		With(m.withRedisData()).
		With(m.withRedisPassword(user, user))
	return m.runtime(c, stack.Redis, m.config())
}

// backendContainer is the backend, bound to deps (postgres and redis).
func (m *Commandcenter) backendContainer(ctx context.Context, deps map[stack.Service]*dagger.Service) (*dagger.Container, error) {
	if err := m.checkBackend(ctx); err != nil {
		return nil, err
	}
	owners, err := m.generatedSecretOwners(ctx)
	if err != nil {
		return nil, err
	}
	user := stack.User(stack.Backend)
	c := m.backendBuild().
		With(withScripts("backend-env", "secret", "url")).
		With(withVolume(stack.StateDir, stack.Volume(m.Project, "backend-state"), user)).
		With(m.withDBPassword(user, owners[stack.Postgres])).
		With(m.withRedisPassword(user, owners[stack.Redis])).
		With(withSecret(m.secretFiles().SecretKey, m.SecretKey, user)).
		WithServiceBinding(string(stack.Postgres), deps[stack.Postgres]).
		WithServiceBinding(string(stack.Redis), deps[stack.Redis])
	return m.runtime(c, stack.Backend, m.config()), nil
}

// backendBuild installs the backend's requirements into a virtualenv before
// copying its source, so a source-only change re-runs no install.
func (m *Commandcenter) backendBuild() *dagger.Container {
	src := m.Source.Directory(m.BackendPath)
	uid := strconv.Itoa(stack.AppUID)
	return m.base(stack.Backend, m.PythonImage).
		WithUser("0").
		WithExec([]string{"sh", "-c", `if command -v useradd >/dev/null; then
	groupadd --gid "$1" app && useradd --uid "$1" --gid "$1" --home-dir /home/app --create-home --shell /usr/sbin/nologin app
else
	addgroup -g "$1" app && adduser -D -u "$1" -G app -h /home/app -s /sbin/nologin app
fi`, "sh", uid}).
		WithEnvVariable("PIP_DISABLE_PIP_VERSION_CHECK", "1").
		WithEnvVariable("VIRTUAL_ENV", stack.VenvDir).
		WithEnvVariable("PATH", stack.VenvDir+"/bin:${PATH}", dagger.ContainerWithEnvVariableOpts{Expand: true}).
		WithExec([]string{"python3", "-m", "venv", stack.VenvDir}).
		WithFile(stack.AppDir+"/requirements.txt", src.File("requirements.txt")).
		WithMountedCache("/var/cache/pip", dag.CacheVolume("commandcenter-pip")).
		WithExec([]string{"pip", "install", "--cache-dir", "/var/cache/pip", "-r", stack.AppDir + "/requirements.txt"}).
		WithoutMount("/var/cache/pip").
		WithDirectory(stack.AppDir, src, dagger.ContainerWithDirectoryOpts{Exclude: []string{".venv", "**/__pycache__"}}).
		WithWorkdir(stack.AppDir)
}

func (m *Commandcenter) frontendContainer(ctx context.Context, backend *dagger.Service) (*dagger.Container, error) {
	hasLock, err := m.checkFrontend(ctx)
	if err != nil {
		return nil, err
	}
	c := m.frontendBuild(hasLock).WithServiceBinding(string(stack.Backend), backend)
	return m.runtime(c, stack.Frontend, m.config()), nil
}

// frontendBuild installs the frontend's packages as the node user from
// package.json and the lockfile alone (npm ci, or npm install without a
// lockfile), then copies the source: a source-only change re-runs no install.
func (m *Commandcenter) frontendBuild(hasLock bool) *dagger.Container {
	src := m.Source.Directory(m.FrontendPath)
	user := stack.User(stack.Frontend)
	owned := dagger.ContainerWithFileOpts{Owner: user}
	install := []string{"npm", "install", "--no-audit", "--no-fund", "--cache", "/var/cache/npm"}
	c := m.base(stack.Frontend, m.NodeImage).
		WithDirectory(stack.AppDir, dag.Directory(), dagger.ContainerWithDirectoryOpts{Owner: user}).
		WithFile(stack.AppDir+"/package.json", src.File("package.json"), owned)
	if hasLock {
		c = c.WithFile(stack.AppDir+"/package-lock.json", src.File("package-lock.json"), owned)
		install[1] = "ci"
	}
	return c.WithUser(user).
		WithWorkdir(stack.AppDir).
		With(withVolume("/var/cache/npm", "commandcenter-npm", user)).
		WithExec(install).
		WithoutMount("/var/cache/npm").
		WithDirectory(stack.AppDir, src, dagger.ContainerWithDirectoryOpts{Exclude: []string{"node_modules"}, Owner: user})
}

func (m *Commandcenter) proxyContainer(services map[stack.Service]*dagger.Service) *dagger.Container {
	c := m.base(stack.Proxy, m.ProxyImage).
		WithNewFile("/etc/nginx/nginx.conf", stack.ProxyConfig(m.config().Routes()))
	for _, s := range stack.Services {
		c = c.WithServiceBinding(string(s), services[s])
	}
	return m.runtime(c, stack.Proxy, m.config())
}
