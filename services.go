package main

import (
	"context"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// healthCheck is how the engine waits for service s: its check runs every
// 100ms; failures within the start period (initdb, package imports, a
// restore from the store, a loaded engine) do not count, and three more
// after that fail the start.
func healthCheck(cfg stack.Config, s stack.Service) dagger.ContainerWithDockerHealthcheckOpts {
	return dagger.ContainerWithDockerHealthcheckOpts{
		StartPeriod:   cfg.StartPeriod(s).String(),
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

// The frontend, bound to the backend, serving on port 3000: Vite as the node user, the static build with nginx, or --frontend-dockerfile's image.
//
// The static build is served as nginx's uid 101, and the image of
// --frontend-dockerfile as its own user (10001 for a root image). It and
// what it binds are started with retry before it is returned.
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
	m, err := m.withApp(ctx)
	if err != nil {
		return nil, err
	}
	containers, err := m.startServices(ctx, stack.Needs(s, m.config().Services()))
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
	// postgres, redis, backend, frontend, proxy or a worker's name.
	service string,
) (*dagger.Container, error) {
	m, err := m.withApp(ctx)
	if err != nil {
		return nil, err
	}
	s, err := stack.Parse(service, m.config().Logged())
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
	case stack.Proxy:
		c = m.proxyContainer(deps)
	default:
		c, err = m.workerContainer(ctx, s, deps)
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

// base is a service's image. It names no project, so that the build steps
// on it (the installs) are one definition for every project and a new
// project finds them cached; runtime labels the project after them.
func (m *Commandcenter) base(image string) *dagger.Container {
	return dag.Container().From(image)
}

// runtime turns a built container into service s of the configuration cfg:
// its user, run volume, environment, port, health check and command.
func (m *Commandcenter) runtime(c *dagger.Container, s stack.Service, cfg stack.Config) *dagger.Container {
	user := cfg.User(s)
	// The scripts first: a layer written after the project's label would
	// be a new layer for every project.
	scripts := []string{"run", "lock"}
	if stack.IsWorker(s) {
		scripts = append(scripts, "alive", "worker-probe")
	}
	c = c.With(withScripts(scripts...)).
		WithLabel("org.commandcenter.project", m.Project).
		WithLabel("org.commandcenter.service", string(s)).
		WithUser(user).
		With(m.withRunVolume(s)).
		With(withEnv(cfg.Env(s, m.secretFiles())))
	switch {
	case s == stack.Proxy:
		for _, r := range cfg.Routes() {
			c = c.WithExposedPort(r.Listen)
		}
	case stack.IsWorker(s):
		c = c.WithDockerHealthcheck(cfg.HealthCheck(s), healthCheck(cfg, s))
	default:
		c = c.WithExposedPort(stack.InternalPort(s)).
			WithDockerHealthcheck(cfg.HealthCheck(s), healthCheck(cfg, s))
	}
	return c.WithoutEntrypoint().WithDefaultArgs(cfg.Command(s))
}

// postgresConfig is the configuration with the postgres image's major
// version, which names the data volume.
func (m *Commandcenter) postgresConfig(ctx context.Context) (stack.Config, error) {
	major, err := m.postgresMajor(ctx)
	cfg := m.config()
	cfg.PostgresMajor = major
	return cfg, err
}

func (m *Commandcenter) postgresContainer(ctx context.Context) (*dagger.Container, error) {
	cfg, err := m.postgresConfig(ctx)
	if err != nil {
		return nil, err
	}
	c := m.base(m.Settings.Images.Postgres)
	if cfg.UsesTemplate() {
		c = c.With(m.withPGTemplate(cfg))
	} else {
		c = c.With(withPgBackRest).With(m.withStore)
	}
	c = c.With(withScripts("postgres", "secret", "pg-setup", "pg-template")).
		With(m.withPGData(cfg.PostgresMajor)).
		With(m.withDBPassword(stack.User(stack.Postgres), stack.User(stack.Postgres)))
	return m.runtime(c, stack.Postgres, cfg), nil
}

func (m *Commandcenter) redisContainer() *dagger.Container {
	user := stack.User(stack.Redis)
	c := m.base(m.Settings.Images.Redis).
		With(withScripts("redis", "secret")).
		With(m.withRedisData()).
		With(m.withRedisPassword(user, user))
	return m.runtime(c, stack.Redis, m.config())
}

func (m *Commandcenter) proxyContainer(services map[stack.Service]*dagger.Service) *dagger.Container {
	c := m.base(m.Settings.Images.Proxy).
		WithNewFile("/etc/nginx/nginx.conf", stack.ProxyConfig(m.config().Routes()))
	for _, s := range stack.Services {
		c = c.WithServiceBinding(string(s), services[s])
	}
	return m.runtime(c, stack.Proxy, m.config())
}

// withPGTemplate puts the template cluster of this image and settings in
// the image, in a layer that names no project: the step that makes it is
// cached, so only the first project of an image and settings runs initdb
// (see stack.TemplateEnv and internal/scripts/pg-template.sh).
func (m *Commandcenter) withPGTemplate(cfg stack.Config) dagger.WithContainerFunc {
	return func(c *dagger.Container) *dagger.Container {
		user := stack.User(stack.Postgres)
		template := m.base(m.Settings.Images.Postgres).
			With(withScripts("lock", "pg-setup", "pg-template")).
			WithUser(user).
			With(withEnv(cfg.TemplateEnv())).
			WithExec([]string{stack.Script("pg-template"), "make", stack.PGTemplateBuild}).
			Directory(stack.PGTemplateBuild)
		return c.WithDirectory(stack.PGTemplate, template, dagger.ContainerWithDirectoryOpts{Owner: user})
	}
}
