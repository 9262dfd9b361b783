package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"dagger/tests/internal/dagger"
)

// Promises of README.md and docs/ that need no store: the secrets' files,
// a start that waits for a stopping instance, an interrupted initdb, and a
// dump that fails half-way.

// secretOwners are the services that get secret files, and the user that
// owns them (docs/SECURITY.md, "How they flow").
var secretOwners = map[string]string{"postgres": "postgres", "redis": "redis", "backend": "app"}

// Secret files are mode 0400 and owned by their service's user; no file outside /run/secrets holds a secret, in any service's container (its image layers and volumes); Status and the error of a failing start hold none.
//
// +check
func (m *Tests) SecretsStayOutOfFilesErrorsAndStatus(ctx context.Context) error {
	const project = "secret-files"
	opts := withPasswords(fixture(project))
	secrets := givenSecrets(project)
	err := withStack(ctx, opts, func(cc *dagger.Commandcenter) error {
		return secretsInFiles(ctx, cc, secrets)
	})
	if err != nil {
		return err
	}
	return secretsInAFailedStart(ctx, opts, secrets)
}

func secretsInFiles(ctx context.Context, cc *dagger.Commandcenter, secrets []string) error {
	for s, owner := range secretOwners {
		if err := secretModes(ctx, cc.Container(s), s, owner); err != nil {
			return err
		}
	}
	for _, s := range appServices {
		files, err := filesHolding(ctx, cc.Container(s), "/", secrets)
		if err != nil {
			return fmt.Errorf("search %s's files for the secrets: %w", s, err)
		}
		if files != "" {
			return fmt.Errorf("%s: wanted no secret in a file outside /run/secrets, found one in: %s", s, files)
		}
	}
	// The same search finds them where they belong: it can see a secret.
	mounts, err := filesHolding(ctx, cc.Container("backend"), "/run/secrets", secrets)
	if err != nil || count(mounts, "/run/secrets/") < len(secrets) {
		return fmt.Errorf("the search did not find the secrets in the backend's secret mounts: %q (%v)", mounts, err)
	}
	status, err := cc.Status(ctx)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	if leaked := holding(status, secrets); leaked != "" {
		return fmt.Errorf("status: wanted no secret, got one (%s) in:\n%s", leaked, status)
	}
	return nil
}

// secretModes checks every file in c's /run/secrets: mode 400, owned by owner.
func secretModes(ctx context.Context, c *dagger.Container, s, owner string) error {
	out, err := c.WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"sh", "-c", "stat -c '%a %U %n' /run/secrets/*"}).Stdout(ctx)
	if err != nil {
		return fmt.Errorf("stat %s's secret files: %w", s, explain(err))
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, line := range lines {
		if !strings.HasPrefix(line, "400 "+owner+" /run/secrets/") {
			return fmt.Errorf("%s's secret files: wanted mode 400 and owner %s, got:\n%s", s, owner, out)
		}
	}
	return nil
}

// filesHolding lists the files under root that hold any of the secrets, as
// root sees them. Under "/", it skips the secret mounts and the kernel's
// file systems: what is left is the image's layers and the volumes.
func filesHolding(ctx context.Context, c *dagger.Container, root string, secrets []string) (string, error) {
	args := []string{"sh", "-c", `root=$1; shift
find "$root" \( -path /proc -o -path /sys -o -path /dev -o -path /run/secrets \) -prune -o -type f -print0 2>/dev/null |
	xargs -0 -r grep -lsF "$@" || [ $? -eq 123 ]`, "sh", root}
	for _, s := range secrets {
		args = append(args, "-e", s)
	}
	if root == "/run/secrets" {
		args[2] = `root=$1; shift; grep -rlsF "$@" "$root"; [ $? -le 1 ]`
	}
	out, err := c.WithUser("root").WithEnvVariable("NONCE", nonce()).WithExec(args).Stdout(ctx)
	return strings.TrimSpace(out), explain(err)
}

// holding names the first of the secrets that text holds, or "".
func holding(text string, secrets []string) string {
	for i, s := range secrets {
		if strings.Contains(text, s) {
			return fmt.Sprintf("secret #%d", i+1)
		}
	}
	return ""
}

// secretsInAFailedStart starts the project with a backend that fails, after
// postgres and redis started with the secrets, and checks its error.
func secretsInAFailedStart(ctx context.Context, opts dagger.CommandcenterOpts, secrets []string) error {
	opts.RetryAttempts = 2
	opts.BackendCommand = []string{"sh", "-c", `echo "the backend refuses to start" >&2; exit 1`}
	broken := dag.Commandcenter(opts)
	_, err := broken.Start().Project(ctx)
	if err == nil {
		return errors.Join(errors.New("start with a failing backend: wanted an error, it started"), stop(ctx, broken))
	}
	var wrong error
	switch leaked := holding(err.Error(), secrets); {
	case !strings.Contains(err.Error(), "the backend refuses to start"):
		wrong = fmt.Errorf("start with a failing backend: wanted its stderr in the error, got %v", err)
	case leaked != "":
		wrong = fmt.Errorf("the error of a failing start: wanted no secret, got %s in it", leaked)
	}
	return errors.Join(wrong, stop(ctx, broken))
}

// A start issued while the project's backend is stopping waits for it, then starts its own: it is not refused.
//
// The backend's shell ignores SIGTERM, so its stop lasts until its
// supervisor kills it after the 10 s grace. The second start's backend is another
// definition (another environment), as another session's would be.
//
// +check
func (m *Tests) StartWaitsForStoppingInstance(ctx context.Context) error {
	opts := withPasswords(fixture("stop-wait"))
	// The app exits on SIGTERM (its own handler): the shell that started it
	// ignores the signal and stays until the supervisor's kill.
	opts.BackendCommand = []string{"sh", "-c", "trap '' TERM; python3 -m app.main & while :; do sleep 1; done"}
	cc := dag.Commandcenter(opts)
	opts.BackendEnv = []string{"DEFINITION=next"}
	next := dag.Commandcenter(opts)
	if _, err := cc.Start().Project(ctx); err != nil {
		return errors.Join(fmt.Errorf("start: %w", err), stop(ctx, cc))
	}
	err := startWhileStopping(ctx, cc, next)
	return errors.Join(err, stop(ctx, next))
}

func startWhileStopping(ctx context.Context, cc, next *dagger.Commandcenter) error {
	before, err := serviceStatus(ctx, cc, "backend")
	if err != nil {
		return err
	}
	if _, err := cc.Frontend().Stop(ctx); err != nil {
		return fmt.Errorf("stop the frontend, which binds the backend: %w", err)
	}
	stopped := make(chan error, 1)
	go func() {
		_, err := cc.Backend().Stop(ctx)
		stopped <- err
	}()
	if err := waitState(ctx, cc, "backend", "stopping"); err != nil {
		return err
	}
	if _, err := next.Start().Project(ctx); err != nil {
		return fmt.Errorf("start while the backend was stopping: wanted it to wait, then start, got %w", err)
	}
	if err := <-stopped; err != nil {
		return fmt.Errorf("stop the first backend: %w", err)
	}
	after, err := serviceStatus(ctx, next, "backend")
	if err != nil {
		return err
	}
	if after.State != "running" || after.Instance == "" || after.Instance == before.Instance {
		return fmt.Errorf("backend after the start: wanted a new running instance (not %s), got %+v", before.Instance, after)
	}
	if h, err := getBackendHealth(ctx, next); err != nil || h.Status != "ok" {
		return fmt.Errorf("/health after the start: wanted ok, got %+v (%v)", h, err)
	}
	return nil
}

// serviceStatus is service s's entry in Status, found by its name.
func serviceStatus(ctx context.Context, cc *dagger.Commandcenter, s string) (serviceEntry, error) {
	st, out, err := readStatus(ctx, cc)
	if err != nil {
		return serviceEntry{}, err
	}
	return findService(st.Services, s, out)
}

// waitState polls Status, at most 2 min, until service s is in state.
func waitState(ctx context.Context, cc *dagger.Commandcenter, s, state string) error {
	var last serviceEntry
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		var err error
		if last, err = serviceStatus(ctx, cc, s); err != nil {
			return err
		}
		if last.State == state {
			return nil
		}
	}
	return fmt.Errorf("%s: waited 2 min for the state %s, last %+v", s, state, last)
}

// A start that finds an initdb interrupted (its mark on the run volume, a half-made data directory) empties the directory, runs initdb again, says so, and serves a new database.
//
// +check
func (m *Tests) InterruptedInitdbStartsOver(ctx context.Context) error {
	cc := dag.Commandcenter(withPasswords(fixture("initdb-cut")))
	if err := reset(ctx, cc); err != nil {
		return err
	}
	err := interruptedInitdb(ctx, cc)
	return errors.Join(err, stop(ctx, cc), reset(ctx, cc))
}

func interruptedInitdb(ctx context.Context, cc *dagger.Commandcenter) error {
	_, err := cc.Container("postgres").WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"sh", "-c", `set -e
echo "$COMMANDCENTER_PG_MAJOR" >"$COMMANDCENTER_LOG_DIR/postgres.initializing"
echo "$COMMANDCENTER_PG_MAJOR" >"$PGDATA/PG_VERSION"
mkdir -p "$PGDATA/base/1"
echo cut >"$PGDATA/half-made"`}).Sync(ctx)
	if err != nil {
		return fmt.Errorf("leave a half-made initdb on the volumes: %w", explain(err))
	}
	if _, err := cc.Start().Project(ctx); err != nil {
		return fmt.Errorf("start after an interrupted initdb: %w", err)
	}
	logs, err := serviceLogs(ctx, cc, "postgres", 200)
	if err != nil || !strings.Contains(logs, "initdb of this PostgreSQL") || !strings.Contains(logs, "was interrupted: starting it again") {
		return fmt.Errorf("postgres logs: wanted the interrupted initdb named, got (%v):\n%s", err, logs)
	}
	p, err := postgresProtection(ctx, cc)
	if err != nil {
		return err
	}
	if !p.NewDatabase {
		return fmt.Errorf("status after the start: wanted a new database, got %+v", p)
	}
	// Read from the data volume: the app's role may not list the server's files.
	left, err := cc.Container("postgres").WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"sh", "-c", `ls -A "$PGDATA"`}).Stdout(ctx)
	if err != nil {
		return fmt.Errorf("list the data directory: %w", explain(err))
	}
	if strings.Contains(left, "half-made") || !strings.Contains(left, "PG_VERSION") {
		return fmt.Errorf("the data directory: wanted a new cluster without the half-made file, got:\n%s", left)
	}
	return nil
}

// A dump that pg_restore can list but not restore (cut short in its data) fails the restore half-way: the error says so, and the database keeps every row.
//
// +check
func (m *Tests) DumpFailingHalfWayChangesNothing(ctx context.Context) error {
	const project = "half-dump"
	return withStack(ctx, withPasswords(fixture(project)), func(cc *dagger.Commandcenter) error {
		return halfWay(ctx, cc, project)
	})
}

const fillerState = `SELECT count(*) || ' ' || md5(string_agg(body, ',' ORDER BY n)) FROM filler`

func halfWay(ctx context.Context, cc *dagger.Commandcenter, project string) error {
	if _, err := psql(ctx, cc, dbPassword(project), "DROP TABLE IF EXISTS filler; CREATE TABLE filler (n int, body text); INSERT INTO filler SELECT g, md5(g::text) FROM generate_series(1, 50000) g"); err != nil {
		return err
	}
	want, err := psql(ctx, cc, dbPassword(project), fillerState)
	if err != nil {
		return err
	}
	cut := dag.Container().From(postgresImage).WithFile("/dump", cc.Backup()).
		WithExec([]string{"sh", "-c", `head -c $(($(stat -c %s /dump) * 2 / 3)) /dump >/cut && pg_restore --list /cut >/dev/null`}).
		File("/cut")
	_, err = cc.Restore(dagger.CommandcenterRestoreOpts{Dump: cut}).Project(ctx)
	if err == nil || !strings.Contains(err.Error(), "pg_restore failed, and the database was not changed") {
		return fmt.Errorf("restore of a dump cut short: wanted it to fail half-way, in pg_restore, got %v", err)
	}
	got, err := psql(ctx, cc, dbPassword(project), fillerState)
	if err != nil || got != want {
		return fmt.Errorf("rows after a restore that failed half-way: wanted %q, got %q (%v)", want, got, err)
	}
	scratch, err := psql(ctx, cc, dbPassword(project), "SELECT count(*) FROM pg_database WHERE datname LIKE 'commandcenter_%'")
	if err != nil || scratch != "0" {
		return fmt.Errorf("databases after the failed restore: wanted no scratch database left, got %q (%v)", scratch, err)
	}
	return nil
}
