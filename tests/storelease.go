package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"dagger/tests/internal/dagger"
)

// The lease while its holder restores: renewed from the claim on, so that
// a rival engine never sees it lapse, however long the restore takes.

// slowProxy passes TCP (the store's TLS, untouched) from port 7070 to the
// store bound as "upstream", and while /ctl/slow exists delays each chunk
// that a client sends by 100 ms: each request of pgBackRest's restore, one
// per file, waits that long.
const slowProxy = `import os, socket, threading, time
def pipe(src, dst, slow):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if slow and os.path.exists("/ctl/slow"):
                time.sleep(0.1)
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
upstream_address = (socket.gethostbyname("upstream"), 7070)  # once: a lookup per connection took seconds
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("", 7070))
server.listen(64)
while True:
    client, _ = server.accept()
    upstream = socket.create_connection(upstream_address)
    threading.Thread(target=pipe, args=(client, upstream, True), daemon=True).start()
    threading.Thread(target=pipe, args=(upstream, client, False), daemon=True).start()
`

// slowStore is the test store behind slowProxy, and the volume that
// holds the proxy's switch.
type slowStore struct {
	testStore
	proxy *dagger.Service
	ctl   *dagger.CacheVolume
}

func newSlowStore(ctx context.Context, name string) (slowStore, error) {
	store, err := newStore(ctx, name)
	if err != nil {
		return slowStore{}, err
	}
	ctl := dag.CacheVolume("commandcenter-tests-slow-" + name)
	proxy := dag.Container().From(pythonImage).
		WithMountedCache("/ctl", ctl).
		WithServiceBinding("upstream", store.service).
		WithNewFile("/proxy.py", slowProxy).
		WithExposedPort(7070).
		AsService(dagger.ContainerAsServiceOpts{Args: []string{"python3", "/proxy.py"}})
	return slowStore{testStore: store, proxy: proxy, ctl: ctl}, nil
}

// setSlow switches the proxy's delay on or off.
func (s slowStore) setSlow(ctx context.Context, slow bool) error {
	cmd := "rm -f /ctl/slow"
	if slow {
		cmd = "touch /ctl/slow"
	}
	_, err := dag.Container().From(postgresImage).WithMountedCache("/ctl", s.ctl).
		WithEnvVariable("NONCE", nonce()).WithExec([]string{"sh", "-c", cmd}).Sync(ctx)
	return explain(err)
}

// A restore from the store that lasts longer than the lease (15 s; the store slowed to make it so): a rival engine's start meanwhile sees the lease renewed and is refused; the restore ends with every row.
//
// +check
func (m *Tests) StoreLeaseRenewedDuringSlowRestore(ctx context.Context) error {
	const project = "store-slow-restore"
	store, err := newSlowStore(ctx, project+nonce())
	if err != nil {
		return err
	}
	opts := store.options(project, storeKeyID, storeKeyValue)
	opts.StoreService = store.proxy
	cc := dag.Commandcenter(opts)
	err = slowRestore(ctx, store, cc, project)
	_, perr := store.proxy.Stop(ctx)
	return errors.Join(err, store.setSlow(ctx, false), stop(ctx, cc), reset(ctx, cc), store.shutdown(ctx), perr)
}

func slowRestore(ctx context.Context, store slowStore, cc *dagger.Commandcenter, project string) error {
	if err := startDurable(ctx, cc); err != nil {
		return err
	}
	if _, err := psqlURL(ctx, cc, "CREATE TABLE notes (body text); INSERT INTO notes SELECT 'slow-' || i FROM generate_series(1, 100) i"); err != nil {
		return err
	}
	if err := stop(ctx, cc); err != nil {
		return err
	}
	if _, err := cc.Reset(dagger.CommandcenterResetOpts{Yes: true, LocalOnly: true}).Project(ctx); err != nil {
		return fmt.Errorf("reset --local-only: %w", err)
	}
	// the rival's container is built first, so that its claim runs at once
	rival := cc.Container("postgres").
		WithMountedTemp("/var/lib/postgresql/data").
		WithEnvVariable("COMMANDCENTER_LOG_DIR", "/tmp/rival-run").
		WithEnvVariable("NONCE", nonce())
	if _, err := rival.Sync(ctx); err != nil {
		return fmt.Errorf("the rival engine's container: %w", err)
	}
	if err := store.setSlow(ctx, true); err != nil {
		return err
	}
	started := make(chan error, 1)
	go func() {
		_, err := cc.Postgres().Start(ctx)
		started <- err
	}()
	rivalErr := rivalDuringRestore(ctx, store, rival, project)
	select {
	case err := <-started:
		if rivalErr == nil {
			rivalErr = fmt.Errorf("the start ended (%v) before the rival's claim did: the restore was too short to prove the renewal", err)
		}
		return rivalErr
	default:
	}
	if err := <-started; err != nil {
		return errors.Join(rivalErr, fmt.Errorf("start with the slow restore: %w", err))
	}
	if rivalErr != nil {
		return rivalErr
	}
	return restoredSlowly(ctx, cc)
}

// rivalDuringRestore waits until the holder claimed the lease, then runs a
// rival engine's claim in rival: the project's postgres container, with a
// run directory and a data directory of its own, as on another engine. It
// must be refused because the lease was renewed, not take it over.
func rivalDuringRestore(ctx context.Context, store slowStore, rival *dagger.Container, project string) error {
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(time.Second) {
		lease, err := store.rival(project, "").WithExec([]string{"sh", "-c", getLease}).Stdout(ctx)
		if err == nil && strings.Contains(lease, "state=held") {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the holder's claim: wanted the lease held within 5 min, got %q (%v)", lease, explain(err))
		}
	}
	_, err := rival.WithExec([]string{"sh", "-c", "mkdir -p /tmp/rival-run && exec commandcenter-pg-store prepare"}).
		Sync(ctx)
	var execErr *dagger.ExecError
	if !errors.As(err, &execErr) || execErr.ExitCode != 79 || !strings.Contains(execErr.Stderr, "runs on another engine") {
		return fmt.Errorf("a rival engine's start during the restore: wanted exit 79, refused as the lease was renewed, got %v", explain(err))
	}
	return nil
}

// restoredSlowly checks that the restore outlasted the lease and its wait
// (15 + 5 s), so that the refusal proves the renewal, and that every row
// is back.
func restoredSlowly(ctx context.Context, cc *dagger.Commandcenter) error {
	out, err := cc.Status(ctx)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	var st struct {
		Services []struct {
			Service  string `json:"service"`
			Restored *struct {
				TookMS int64 `json:"took_ms"`
			} `json:"restored"`
		} `json:"services"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return fmt.Errorf("status: wanted JSON, got %q", out)
	}
	for _, s := range st.Services {
		if s.Service == "postgres" && (s.Restored == nil || s.Restored.TookMS < 20000) {
			return fmt.Errorf("the restore: wanted it longer than the lease and its wait (20 s), to prove the renewal, got:\n%s", out)
		}
	}
	count, err := psqlURL(ctx, cc, "SELECT count(*) FROM notes WHERE body LIKE 'slow-%'")
	if err != nil || count != "100" {
		return fmt.Errorf("rows after the slow restore: wanted all 100, got %q (%v)", count, err)
	}
	return nil
}
