package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"dagger/tests/internal/dagger"
)

// The store under stress: sessions that end by a kill, and the store's
// history that no start deletes by itself.

// A project's first session, killed a few seconds after its writes, then the drill: its first start was ready only with a base backup in the store, health then showed the killed server's last WAL as only in this engine, status pushed it to the store, and after the drill every row is back from the store.
//
// +check
func (m *Tests) StoreKilledFirstSessionKeepsEveryRow(ctx context.Context) error {
	return withStoreProject(ctx, "store-killed", func(_ testStore, cc *dagger.Commandcenter) error {
		return killedFirstSession(ctx, cc)
	})
}

func killedFirstSession(ctx context.Context, cc *dagger.Commandcenter) error {
	if _, err := cc.Postgres().Start(ctx); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	if _, err := psqlURL(ctx, cc, "CREATE TABLE notes (body text)"); err != nil {
		return err
	}
	st, out, err := readStoreStatus(ctx, cc)
	if err != nil {
		return err
	}
	if st.Protection.LastBackup == "" {
		return fmt.Errorf("status once postgres answered: wanted its first base backup in the store already, got:\n%s", out)
	}
	if _, err := psqlURL(ctx, cc, "INSERT INTO notes SELECT 'killed-' || i FROM generate_series(1, 50) i"); err != nil {
		return err
	}
	if _, err := cc.Postgres().Stop(ctx, dagger.ServiceStopOpts{Kill: true}); err != nil {
		return fmt.Errorf("kill postgres: %w", err)
	}
	if err := strandedWALPushedByStatus(ctx, cc); err != nil {
		return err
	}
	if _, err := cc.Reset(dagger.CommandcenterResetOpts{Yes: true, LocalOnly: true}).Project(ctx); err != nil {
		return fmt.Errorf("reset --local-only after the kill: %w", err)
	}
	if _, err := cc.Postgres().Start(ctx); err != nil {
		return fmt.Errorf("start postgres after the drill: %w", err)
	}
	count, err := psqlURL(ctx, cc, "SELECT count(*) FROM notes WHERE body LIKE 'killed-%'")
	if err != nil || count != "50" {
		return fmt.Errorf("rows after the kill and the drill: wanted all 50, got %q (%v)", count, err)
	}
	st, out, err = readStoreStatus(ctx, cc)
	if err != nil {
		return err
	}
	pg := st.Services[0]
	if pg.NewDatabase || pg.Restored == nil || !pg.Restored.ThisInstance {
		return fmt.Errorf("status after the drill: wanted postgres restored from the store at this start, got:\n%s", out)
	}
	return nil
}

// slowRenewal is a rival engine whose lease lives 60 s (ttl=60 in the
// lease) and is renewed every 25 s: longer than the waiting engine's own
// 15 s lease.
const slowRenewal = `while :; do
	printf 'copy=rival\nstate=held\nhost=rival-engine\nat=%s\nttl=60\n' "$(date -u +%FT%TZ)" >/tmp/lease
	printf '%s\n' "$KEYS" | curl -sSf -K - --cacert /ca.pem --aws-sigv4 aws:amz:us-east-1:s3 -X PUT \
		-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -T /tmp/lease "$LEASE" >/dev/null
	sleep 25
done`

// A rival engine whose lease lives longer than this engine's setting (60 s against 15 s, renewed every 25 s) is waited for by its own lifetime: the start is refused while the rival lives, not taken over after 15 + 5 s.
//
// +check
func (m *Tests) StoreLeaseWaitsForTheHoldersLifetime(ctx context.Context) error {
	const project = "store-lease-ttl"
	return withStoreProject(ctx, project, func(store testStore, cc *dagger.Commandcenter) error {
		live := store.rival(project, "held").AsService(dagger.ContainerAsServiceOpts{Args: []string{"sh", "-c", slowRenewal}})
		if _, err := live.Start(ctx); err != nil {
			return fmt.Errorf("start the rival engine's renewals: %w", explain(err))
		}
		_, err := cc.Postgres().Start(ctx)
		if _, serr := live.Stop(ctx); serr != nil {
			return serr
		}
		if err == nil || !strings.Contains(err.Error(), "runs on another engine") {
			return fmt.Errorf("start against a rival with a 60 s lease renewed every 25 s: wanted a refusal, got %v", err)
		}
		return nil
	})
}

// ifMatchBlindS3 is an S3 stand-in that enforces If-None-Match: * (a key
// it holds is not created again) and ignores If-Match: it replaces an
// object whatever ETag the writer read.
const ifMatchBlindS3 = `import http.server, ssl
held = set()
class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, code, body=b""):
        self.send_response(code)
        self.send_header("ETag", '"same"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if "list-type" in self.path:
            self.reply(200, b"<ListBucketResult></ListBucketResult>")
        else:
            self.reply(404, b"<Error><Code>NoSuchKey</Code></Error>")
    def do_PUT(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("If-None-Match") == "*" and self.path in held:
            return self.reply(412)
        held.add(self.path)
        self.reply(200)
    def do_DELETE(self):
        held.discard(self.path)
        self.reply(204)
server = http.server.HTTPServer(("", 7070), Handler)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain("/certs/s3.crt", "/certs/s3.key")
server.socket = tls.wrap_socket(server.socket, server_side=True)
server.serve_forever()
`

// A store that enforces If-None-Match but ignores If-Match (a renewal with a wrong ETag would replace another engine's lease) is refused before anything starts, and the error says why.
//
// +check
func (m *Tests) StoreIgnoringIfMatchIsRefused(ctx context.Context) error {
	fake, err := fakeStore(ifMatchBlindS3)
	if err != nil {
		return err
	}
	cc := dag.Commandcenter(fake.options("store-ifmatch-blind", storeKeyID, storeKeyValue))
	err = refusedStart(ctx, cc, "a store that ignores If-Match", "does not enforce conditional writes", "If-Match: a wrong ETag got 200")
	_, serr := fake.service.Stop(ctx)
	return errors.Join(err, serr)
}
