package main

import (
	"context"
	"strconv"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// healthCheck is how the engine waits for a service: its check runs every
// 100ms; failures in the first 60s (initdb, package imports) do not count,
// and three more after that fail the start.
var healthCheck = dagger.ContainerWithDockerHealthcheckOpts{
	StartPeriod:   "60s",
	StartInterval: "100ms",
	Interval:      "5s",
	Timeout:       "5s",
	Retries:       3,
}

// PostgreSQL server of the project, as the image's postgres user, with its data on the project's volume.
//
// Role and database are both "commandcenter". The password comes from
// --db-password, or is generated on first start (see New).
//
// +up
func (m *Commandcenter) Postgres() *dagger.Service {
	return m.postgresContainer().AsService()
}

// Redis server of the project, as the image's redis user, with /data on the project's volume.
//
// +up
func (m *Commandcenter) Redis() *dagger.Service {
	return m.redisContainer().AsService()
}

// Python backend, as the app user (uid 10001), bound to postgres and redis.
//
// It gets DATABASE_URL, REDIS_URL, SECRET_KEY and PROJECT_NAME, and serves on port 8000.
//
// +up
func (m *Commandcenter) Backend(ctx context.Context) (*dagger.Service, error) {
	return m.service(ctx, stack.Backend)
}

// Node frontend, as the image's node user, bound to the backend, serving on port 3000.
//
// +up
func (m *Commandcenter) Frontend(ctx context.Context) (*dagger.Service, error) {
	return m.service(ctx, stack.Frontend)
}

// The whole stack as one service: a non-root nginx proxy bound to the four services, exposing their ports.
//
// `dagger call stack up` serves PostgreSQL, Redis, the backend and the
// frontend on the host (5432, 6379, 8000 and 3000 by default); binding it
// starts the services in dependency order, independent ones in parallel.
//
// +up
func (m *Commandcenter) Stack(ctx context.Context) (*dagger.Service, error) {
	return m.service(ctx, stack.Proxy)
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
	var c *dagger.Container
	var err error
	switch s {
	case stack.Postgres:
		c = m.postgresContainer()
	case stack.Redis:
		c = m.redisContainer()
	case stack.Backend:
		c, err = m.backendContainer(ctx)
	case stack.Frontend:
		var backend *dagger.Container
		if backend, err = m.containerOnce(ctx, stack.Backend, built); err == nil {
			c, err = m.frontendContainer(ctx, backend.AsService())
		}
	default:
		var services map[stack.Service]*dagger.Service
		if services, err = m.appServices(ctx, built); err == nil {
			c = m.proxyContainer(services)
		}
	}
	if err != nil {
		return nil, err
	}
	built[s] = c
	return c, nil
}

// appServices returns the four app services, their containers taken from or added to built.
func (m *Commandcenter) appServices(ctx context.Context, built map[stack.Service]*dagger.Container) (map[stack.Service]*dagger.Service, error) {
	services := make(map[stack.Service]*dagger.Service, len(stack.Services))
	for _, s := range stack.Services {
		c, err := m.containerOnce(ctx, s, built)
		if err != nil {
			return nil, err
		}
		services[s] = c.AsService()
	}
	return services, nil
}

// service returns a service by name.
func (m *Commandcenter) service(ctx context.Context, s stack.Service) (*dagger.Service, error) {
	c, err := m.container(ctx, s)
	if err != nil {
		return nil, err
	}
	return c.AsService(), nil
}

// base is a service's image, labelled with the project so that each
// project's containers are distinct definitions.
func (m *Commandcenter) base(s stack.Service, image string) *dagger.Container {
	return dag.Container().
		From(image).
		WithLabel("org.commandcenter.project", m.Project).
		WithLabel("org.commandcenter.service", string(s))
}

// runtime turns a built container into service s: its user, log volume,
// environment, port, health check and command.
func (m *Commandcenter) runtime(c *dagger.Container, s stack.Service) *dagger.Container {
	cfg := m.config()
	user := stack.User(s)
	c = c.With(withScripts("run")).
		WithUser(user).
		With(withVolume(stack.LogDir, stack.Volume(m.Project, "logs", string(s)), user))
	for _, e := range cfg.Env(s, m.secretFiles()) {
		c = c.WithEnvVariable(e.Name, e.Value)
	}
	if s == stack.Proxy {
		for _, r := range cfg.Routes() {
			c = c.WithExposedPort(r.Listen)
		}
	} else {
		c = c.WithExposedPort(stack.InternalPort(s)).
			WithDockerHealthcheck(stack.HealthCheck(s), healthCheck)
	}
	return c.WithoutEntrypoint().WithDefaultArgs(cfg.Command(s))
}

func (m *Commandcenter) postgresContainer() *dagger.Container {
	user := stack.User(stack.Postgres)
	data := stack.Volume(m.Project, "pgdata", stack.ImageMajor(m.PostgresImage))
	c := m.base(stack.Postgres, m.PostgresImage).
		With(withScripts("postgres", "secret")).
		With(withVolume(stack.PGData, data, user)).
		With(m.withDBPassword(user, user))
	return m.runtime(c, stack.Postgres)
}

func (m *Commandcenter) redisContainer() *dagger.Container {
	user := stack.User(stack.Redis)
	data := stack.Volume(m.Project, "redis-data", stack.ImageMajor(m.RedisImage))
	c := m.base(stack.Redis, m.RedisImage).
		With(withScripts("redis")).
		With(withVolume("/data", data, user)).
		With(m.withRedisPassword(user))
	return m.runtime(c, stack.Redis)
}

func (m *Commandcenter) backendContainer(ctx context.Context) (*dagger.Container, error) {
	if err := m.checkBackend(ctx); err != nil {
		return nil, err
	}
	dbSecretOwner := ""
	if m.DBPassword == nil {
		owner, err := m.postgresOwner(ctx)
		if err != nil {
			return nil, err
		}
		dbSecretOwner = owner
	}
	user := stack.User(stack.Backend)
	c := m.backendBuild().
		With(withScripts("backend-env", "secret")).
		With(withVolume(stack.StateDir, stack.Volume(m.Project, "backend-state"), user)).
		With(m.withDBPassword(user, dbSecretOwner)).
		With(m.withRedisPassword(user)).
		With(withSecret(m.secretFiles().SecretKey, m.SecretKey, user)).
		WithServiceBinding(string(stack.Postgres), m.Postgres()).
		WithServiceBinding(string(stack.Redis), m.Redis())
	return m.runtime(c, stack.Backend), nil
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
	return m.runtime(c, stack.Frontend), nil
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
	return m.runtime(c, stack.Proxy)
}
