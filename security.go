package main

import (
	"context"
	"fmt"
	"strings"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/scripts"
	"dagger/commandcenter/internal/stack"
)

// Who runs what, and how secrets reach the processes.
//
// Every service process runs as the non-root user that stack.User names.
// Build steps that must change the image itself (creating the backend's user,
// installing Python packages into a root-owned virtualenv) run as root, and
// their results are read-only for the service user.
//
// Secrets are *dagger.Secret values only. They reach a container as a file
// owned by its reader with mode 0400 (withSecret), or, when generated, as a
// file the service creates on its project's volume. The services' scripts read
// those files at start; no secret is ever put in an environment variable of
// the container definition, an argument, a label, an image layer or a log.

// withScripts installs launch scripts as /usr/local/bin/commandcenter-<name>.
func withScripts(names ...string) dagger.WithContainerFunc {
	return func(c *dagger.Container) *dagger.Container {
		for _, s := range scripts.Named(names...) {
			c = c.WithNewFile(stack.Script(s.Name), s.Contents, dagger.ContainerWithNewFileOpts{Permissions: 0o755})
		}
		return c
	}
}

// withVolume mounts a cache volume whose root belongs to owner. The engine
// counts the owner as part of the volume's identity: every mount of one
// volume must name the same owner, or it gets another, empty volume.
func withVolume(path, name, owner string) dagger.WithContainerFunc {
	return func(c *dagger.Container) *dagger.Container {
		return c.WithMountedCache(path, dag.CacheVolume(name), dagger.ContainerWithMountedCacheOpts{Owner: owner})
	}
}

// withSecret mounts secret at path, readable only by owner, when it is set.
func withSecret(path string, secret *dagger.Secret, owner string) dagger.WithContainerFunc {
	return func(c *dagger.Container) *dagger.Container {
		if secret == nil {
			return c
		}
		return c.WithMountedSecret(path, secret, dagger.ContainerWithMountedSecretOpts{
			Owner: owner,
			Mode:  stack.SecretMode,
		})
	}
}

func (m *Commandcenter) given() stack.Given {
	return stack.Given{
		DBPassword:    m.DBPassword != nil,
		RedisPassword: m.RedisPassword != nil,
		SecretKey:     m.SecretKey != nil,
	}
}

func (m *Commandcenter) secretFiles() stack.SecretFiles {
	return m.given().SecretFiles()
}

// withDBPassword gives a container the database password: the given secret,
// or the volume on which postgres generates one. The volume belongs to the
// postgres user, so dbSecretOwner must be that user (by name in the postgres
// image, by uid:gid elsewhere; see postgresOwner).
func (m *Commandcenter) withDBPassword(reader, dbSecretOwner string) dagger.WithContainerFunc {
	if m.DBPassword != nil {
		return withSecret(m.secretFiles().DBPassword, m.DBPassword, reader)
	}
	return withVolume(stack.GeneratedDBDir, stack.Volume(m.Project, "db-secret"), dbSecretOwner)
}

// withRedisPassword gives a container the Redis password, if there is one.
func (m *Commandcenter) withRedisPassword(reader string) dagger.WithContainerFunc {
	return withSecret(m.secretFiles().RedisPassword, m.RedisPassword, reader)
}

// postgresOwner is the uid:gid of the postgres image's postgres user. Other
// images mount the generated password's volume with it, since the name
// "postgres" means nothing there.
func (m *Commandcenter) postgresOwner(ctx context.Context) (string, error) {
	out, err := dag.Container().
		From(m.PostgresImage).
		WithUser(stack.User(stack.Postgres)).
		WithExec([]string{"sh", "-c", `echo "$(id -u):$(id -g)"`}).
		Stdout(ctx)
	if err != nil {
		return "", fmt.Errorf("find the postgres user of %s: %w", m.PostgresImage, err)
	}
	return strings.TrimSpace(out), nil
}
