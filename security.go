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

// withEnv sets the given environment variables, none of them a secret.
func withEnv(env []stack.EnvVar) dagger.WithContainerFunc {
	return func(c *dagger.Container) *dagger.Container {
		for _, e := range env {
			c = c.WithEnvVariable(e.Name, e.Value)
		}
		return c
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

// withSecretVariable sets the secret variable name, when secret is set: for
// one build step, which removes it again (WithoutSecretVariable).
func withSecretVariable(name string, secret *dagger.Secret) dagger.WithContainerFunc {
	return func(c *dagger.Container) *dagger.Container {
		if secret == nil {
			return c
		}
		return c.WithSecretVariable(name, secret)
	}
}

func (m *Commandcenter) given() stack.Given {
	return stack.Given{
		DBPassword:     m.DBPassword != nil,
		RedisPassword:  m.RedisPassword != nil,
		SecretKey:      m.SecretKey != nil,
		BackendEnvFile: m.BackendEnvFile != nil,
		Store:          m.Settings.Store.Enabled(),
	}
}

func (m *Commandcenter) secretFiles() stack.SecretFiles {
	return m.given().SecretFiles()
}

// withDBPassword gives a container the database password: the given secret,
// or the volume on which postgres generates one. The volume belongs to the
// postgres user, so owner must be that user (by name in the postgres image,
// by number elsewhere; see generatedSecretOwners).
func (m *Commandcenter) withDBPassword(reader, owner string) dagger.WithContainerFunc {
	if m.DBPassword != nil {
		return withSecret(m.secretFiles().DBPassword, m.DBPassword, reader)
	}
	return withVolume(stack.GeneratedDBDir, stack.Volume(m.Project, "db-secret"), owner)
}

// withRedisPassword gives a container the Redis password: the given secret,
// or the volume on which redis generates one, owned as for withDBPassword.
func (m *Commandcenter) withRedisPassword(reader, owner string) dagger.WithContainerFunc {
	if m.RedisPassword != nil {
		return withSecret(m.secretFiles().RedisPassword, m.RedisPassword, reader)
	}
	return withVolume(stack.GeneratedRedisDir, stack.Volume(m.Project, "redis-secret"), owner)
}

// withAppPasswords gives a container of the backend's user both passwords,
// given or generated.
func (m *Commandcenter) withAppPasswords(ctx context.Context) (dagger.WithContainerFunc, error) {
	owners, err := m.generatedSecretOwners(ctx)
	if err != nil {
		return nil, err
	}
	user := m.user(stack.Backend)
	return func(c *dagger.Container) *dagger.Container {
		return c.With(m.withDBPassword(user, owners[stack.Postgres])).
			With(m.withRedisPassword(user, owners[stack.Redis]))
	}, nil
}

// generatedSecretOwners maps postgres and redis to the numeric owner of the
// volumes on which they generate a password, for the other images that
// mount them (a name like "redis" means nothing there). Only the volumes in
// use are looked up.
func (m *Commandcenter) generatedSecretOwners(ctx context.Context) (map[stack.Service]string, error) {
	owners := map[stack.Service]string{}
	generated := map[stack.Service]bool{stack.Postgres: m.DBPassword == nil, stack.Redis: m.RedisPassword == nil}
	for s, gen := range generated {
		if !gen {
			continue
		}
		owner, err := numericOwner(ctx, m.image(s), stack.User(s))
		if err != nil {
			return nil, err
		}
		owners[s] = owner
	}
	return owners, nil
}

// numericOwner is the owner that the engine makes of user's name in image:
// uid:uid, since an owner without a group gets the uid as its gid (and
// redis's group, 1000, is not its uid, 999).
func numericOwner(ctx context.Context, image, user string) (string, error) {
	out, err := dag.Container().
		From(image).
		WithUser(user).
		WithExec([]string{"sh", "-c", `echo "$(id -u):$(id -u)"`}).
		Stdout(ctx)
	if err != nil {
		return "", fmt.Errorf("find the %s user of %s: %w", user, image, err)
	}
	return strings.TrimSpace(out), nil
}
