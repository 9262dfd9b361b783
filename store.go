package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"dagger/commandcenter/internal/dagger"
	"dagger/commandcenter/internal/stack"
)

// The durable store (--store): pgBackRest in the postgres container
// archives the WAL and takes base backups into an S3 bucket, and a start
// restores an empty data directory from it (internal/scripts/pg-store.sh).

// storeGiven says which of the store's secrets and service were given.
func (m *Commandcenter) storeGiven() stack.StoreGiven {
	return stack.StoreGiven{
		Credentials: m.StoreCredentials != nil, CA: m.StoreCA != nil,
		EncryptionKey: m.StoreKey != nil, Service: m.StoreService != nil,
	}
}

// withPgBackRest installs pgBackRest, curl, jq (which reads pgBackRest's
// JSON) and lz4 or zstd (which decompress archived WAL for pg_waldump,
// restore --from-store --time) in a postgres image, in a layer that names no project, so every
// project shares it.
func withPgBackRest(c *dagger.Container) *dagger.Container {
	return c.WithUser("root").WithExec([]string{"sh", "-c", `set -e
if command -v apk >/dev/null; then
	apk add --no-cache pgbackrest curl jq lz4
else
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbackrest curl jq zstd ca-certificates >/dev/null
	rm -rf /var/lib/apt/lists/*
fi
mkdir -p /etc/pgbackrest
pgbackrest version`})
}

// withStore gives a postgres container what it needs of the store: its
// scripts, pgBackRest's configuration, the secrets as files owned by
// postgres, and the store's service when one was given. The environment
// that names them is stack.Config.StoreEnv.
func (m *Commandcenter) withStore(c *dagger.Container) *dagger.Container {
	target, _ := m.Settings.Store.Target() // validated in New
	owner := stack.User(stack.Postgres)
	c = c.With(withScripts("store", "pgbackrest", "pg-store", "pg-pitr", "pg-catchup")).
		WithNewFile(stack.PgBackRestConf, stack.PgBackRestConfig(m.Project, target, m.storeGiven())).
		With(withSecret(stack.StoreCredentialsFile, m.StoreCredentials, owner)).
		With(withSecret(stack.StoreCAFile, m.StoreCA, owner)).
		With(withSecret(stack.StoreKeyFile, m.StoreKey, owner))
	if m.StoreService != nil {
		c = c.WithServiceBinding(target.Host, m.StoreService)
	}
	if m.secretFiles().PostgresGeneratesSecretKey {
		c = c.With(withVolume(stack.GeneratedDBDir, stack.Volume(m.Project, "db-secret"), owner))
	}
	return c
}

// storeClient is a postgres container that runs commandcenter-pg-store
// COMMAND against the store, with the project's run and data volumes.
func (m *Commandcenter) storeClient(ctx context.Context) (*dagger.Container, error) {
	cfg, err := m.postgresConfig(ctx)
	if err != nil {
		return nil, err
	}
	return m.base(m.Settings.Images.Postgres).
		With(withPgBackRest).
		With(withScripts("lock", "secret")).
		With(m.withStore).
		WithUser(stack.User(stack.Postgres)).
		With(m.withRunVolume(stack.Postgres)).
		With(m.withPGData(cfg.PostgresMajor)).
		With(withEnv(cfg.Env(stack.Postgres, m.secretFiles()))), nil
}

// storeRun runs commandcenter-pg-store with args in a store client, now.
func (m *Commandcenter) storeRun(ctx context.Context, args ...string) (string, error) {
	return m.storeRunInput(ctx, "", args...)
}

// storeRunInput is storeRun with input on the command's stdin.
func (m *Commandcenter) storeRunInput(ctx context.Context, input string, args ...string) (string, error) {
	c, err := m.storeClient(ctx)
	if err != nil {
		return "", err
	}
	out, err := c.WithEnvVariable("COMMANDCENTER_STORE_AT", now()).
		WithExec(append([]string{stack.Script("pg-store")}, args...), dagger.ContainerWithExecOpts{Stdin: input}).
		Stdout(ctx)
	var execErr *dagger.ExecError
	if errors.As(err, &execErr) {
		return "", fmt.Errorf("store %s: %s", m.Settings.Store.URL, strings.TrimSpace(stack.LastLines(execErr.Stderr, 12)))
	}
	return out, err
}

// checkStore fails, before anything starts, unless the store answers,
// its bucket exists and the credentials work; the error names the flag.
// A project whose postgres already runs keeps serving when the store is
// down (it reports the failure in status): the check then only warns.
func (m *Commandcenter) checkStore(ctx context.Context) error {
	if !m.Settings.Store.Enabled() {
		return nil
	}
	_, err := m.storeRun(ctx, "check")
	runs := err != nil && m.status(ctx, stack.Postgres).State == stack.StateRunning
	warning, err := stack.StoreCheckVerdict(m.Project, err, runs)
	if warning != "" {
		fmt.Fprintln(os.Stderr, warning)
	}
	return err
}

// restoreFromStore checks that the store can bring the database back to
// at, then drops this engine's copy, so that the next start restores it.
func (m *Commandcenter) restoreFromStore(ctx context.Context, at string) error {
	target, err := stack.StoreRestoreTime(m.Settings.Store, at)
	if err != nil {
		return err
	}
	if _, err := m.checkStopped(ctx); err != nil {
		return fmt.Errorf("restore --from-store: %w", err)
	}
	if err := m.catchUpStore(ctx); err != nil {
		return err
	}
	out, err := m.storeRun(ctx, "range")
	if err != nil {
		return err
	}
	r, err := stack.ParseStoreRangeOutput(out)
	if err != nil {
		return err
	}
	target, recovery, err := r.Plan(m.Project, target)
	if err != nil {
		return err
	}
	backup := r.BackupFor(target)
	if recovery != "" {
		if backup, err = m.pointInTimeBackup(ctx, r, target); err != nil {
			return err
		}
	}
	if _, err := m.storeRun(ctx, "restore-to", recovery, backup); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, stack.StoreRestoreReport(m.Project, m.Settings.Store.URL, target, backup))
	return nil
}

// catchUpStore pushes to the store the WAL that this engine's copy holds
// and the store lacks (a killed server's last writes, segments a stop left
// while the store was down), before the copy is dropped; it fails, naming
// the segments, when the store does not take them.
func (m *Commandcenter) catchUpStore(ctx context.Context) error {
	_, err := m.storeRun(ctx, "catch-up")
	return err
}
