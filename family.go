package main

import (
	"context"
	"fmt"
	"strconv"

	"dagger/commandcenter/internal/stack"
)

// A change of image family (postgres:16-alpine to the Debian
// pgvector/pgvector:pg16, or back) changes the uid of the postgres user,
// and with it the identity of every volume the server mounts. Before each
// start, carryFamily copies the project's cluster from the other family's
// volumes when this image's hold none (internal/scripts/pg-family.sh).

// carryFamily runs commandcenter-pg-family, as root, with the project's
// postgres volumes of this image and of every family mounted; an engine
// failure is retried, a refusal of the script is not.
func (m *Commandcenter) carryFamily(ctx context.Context, major string) error {
	user := stack.User(stack.Postgres)
	c := m.base(m.Settings.Images.Postgres).
		WithUser("root").
		With(withScripts("pg-family")).
		With(m.withPGData(major)).
		With(m.withRunVolume(stack.Postgres)).
		WithEnvVariable("PGDATA", stack.PGData).
		WithEnvVariable("COMMANDCENTER_LOG_DIR", stack.LogDir).
		WithEnvVariable("COMMANDCENTER_PROJECT", m.Project).
		WithEnvVariable("COMMANDCENTER_PG_IMAGE", m.Settings.Images.Postgres).
		WithEnvVariable("COMMANDCENTER_PG_FAMILIES", stack.FamiliesDir)
	secret := m.DBPassword == nil || m.secretFiles().PostgresGeneratesSecretKey
	if secret {
		c = c.With(withVolume(stack.GeneratedDBDir, stack.Volume(m.Project, "db-secret"), user)).
			WithEnvVariable("COMMANDCENTER_DB_SECRET_DIR", stack.GeneratedDBDir)
	}
	for _, uid := range stack.PostgresFamilies {
		dir, owner := stack.FamiliesDir+"/"+strconv.Itoa(uid), stack.FamilyOwner(uid)
		c = c.With(withVolume(dir+"/data", stack.PGDataVolume(m.Project, major), owner)).
			With(withVolume(dir+"/logs", stack.Volume(m.Project, "logs", string(stack.Postgres)), owner))
		if secret {
			c = c.With(withVolume(dir+"/db", stack.Volume(m.Project, "db-secret"), owner))
		}
	}
	err := m.retryPolicy().Do(ctx, func(ctx context.Context) error {
		_, err := c.WithEnvVariable("COMMANDCENTER_FAMILY_AT", now()).
			WithExec([]string{stack.Script("pg-family"), user}).
			Sync(ctx)
		return permanentIfExec(err)
	})
	if err != nil {
		return fmt.Errorf("postgres: %w", withStderr(err))
	}
	return nil
}
