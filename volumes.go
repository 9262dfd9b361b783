package main

import (
	"context"
	"fmt"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// The project's volumes.

// withVolume mounts a cache volume whose root belongs to owner. The engine
// counts the owner as part of the volume's identity: every mount of one
// volume must name the same owner, or it gets another, empty volume.
func withVolume(path, name, owner string) dagger.WithContainerFunc {
	return func(c *dagger.Container) *dagger.Container {
		return c.WithMountedCache(path, dag.CacheVolume(name), dagger.ContainerWithMountedCacheOpts{Owner: owner})
	}
}

// withRunVolume mounts service s's run volume: its log, the lock that lets
// one instance of it run at a time, and the record of that instance (see
// internal/scripts/lock.sh).
func (m *Commandcenter) withRunVolume(s stack.Service) dagger.WithContainerFunc {
	return withVolume(stack.LogDir, stack.Volume(m.Project, "logs", string(s)), m.user(s))
}

// withPGData mounts the PostgreSQL data volume of the given major version.
func (m *Commandcenter) withPGData(major string) dagger.WithContainerFunc {
	return withVolume(stack.PGData, stack.PGDataVolume(m.Project, major), stack.User(stack.Postgres))
}

// withRedisData mounts Redis's data volume, named by the image tag's major version.
func (m *Commandcenter) withRedisData() dagger.WithContainerFunc {
	return withVolume("/data", stack.Volume(m.Project, "redis-data", stack.ImageMajor(m.Settings.Images.Redis)), stack.User(stack.Redis))
}

// postgresMajor reads the postgres image's major version from the image
// itself: PG_MAJOR, which the official images set, or `postgres --version`.
// A tag names no major reliably (postgres:alpine, postgres:latest).
func (m *Commandcenter) postgresMajor(ctx context.Context) (string, error) {
	image := dag.Container().From(m.Settings.Images.Postgres)
	var env, version string
	err := m.retryPolicy().Do(ctx, func(ctx context.Context) error {
		var err error
		if env, err = image.EnvVariable(ctx, "PG_MAJOR"); err != nil || env != "" {
			return err
		}
		version, err = image.WithExec([]string{"postgres", "--version"}).Stdout(ctx)
		return permanentIfExec(err)
	})
	if err != nil {
		return "", fmt.Errorf("read the PostgreSQL version of --postgres-image %s: %w", m.Settings.Images.Postgres, withStderr(err))
	}
	major, err := stack.PostgresMajor(env, version)
	if err != nil {
		return "", fmt.Errorf("--postgres-image %s: %w", m.Settings.Images.Postgres, err)
	}
	return major, nil
}
