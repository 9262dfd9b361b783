package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"dagger/tests/internal/dagger"
)

// Promises of the durable store that the other store tests leave open:
// restore --from-store to the latest WAL, a lost lease, a store without
// conditional writes, a certificate that does not verify, the WAL archived
// within 60 s, a reset that deletes the store's copy, and the encryption.

// A restore --from-store without --time, then a start: the database is recovered from the store (a new timeline, status restored to latest at this start) with every row written before the stop.
//
// +check
func (m *Tests) StoreRestoreToLatest(ctx context.Context) error {
	return withStoreProject(ctx, "store-latest", func(_ testStore, cc *dagger.Commandcenter) error {
		return restoreLatest(ctx, cc)
	})
}

func restoreLatest(ctx context.Context, cc *dagger.Commandcenter) error {
	if err := startDurable(ctx, cc); err != nil {
		return err
	}
	row := "latest-" + nonce()
	if _, err := psqlURL(ctx, cc, "CREATE TABLE IF NOT EXISTS notes (body text); INSERT INTO notes VALUES ('"+row+"')"); err != nil {
		return err
	}
	before, err := timeline(ctx, cc)
	if err != nil {
		return err
	}
	if err := stop(ctx, cc); err != nil {
		return err
	}
	if _, err := cc.Restore(dagger.CommandcenterRestoreOpts{FromStore: true}).Start().Project(ctx); err != nil {
		return fmt.Errorf("restore --from-store, then start: %w", err)
	}
	st, out, err := readStoreStatus(ctx, cc)
	if err != nil {
		return err
	}
	restored := false
	for _, s := range st.Services {
		restored = restored || s.Service == "postgres" && s.Restored != nil && s.Restored.ThisInstance && s.Restored.Target == "latest" && !s.NewDatabase
	}
	if !restored {
		return fmt.Errorf("status after restore --from-store: wanted postgres restored to latest at this start, got:\n%s", out)
	}
	after, err := timeline(ctx, cc)
	if err != nil {
		return err
	}
	if after <= before {
		return fmt.Errorf("timeline after restore --from-store: wanted a new one after %d (a recovery), got %d", before, after)
	}
	if n, err := psqlURL(ctx, cc, "SELECT count(*) FROM notes WHERE body = '"+row+"'"); err != nil || n != "1" {
		return fmt.Errorf("rows after restore --from-store: wanted the row written before the stop, got %q (%v)", n, err)
	}
	return nil
}

// timeline is the PostgreSQL timeline that the project's WAL is written
// on: the first 8 hex digits of the current segment's name.
func timeline(ctx context.Context, cc *dagger.Commandcenter) (int64, error) {
	out, err := psqlURL(ctx, cc, "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)")
	if err != nil {
		return 0, fmt.Errorf("read the timeline: %w", err)
	}
	n, err := strconv.ParseInt(out, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("read the timeline: wanted 8 hex digits, got %q", out)
	}
	return n, nil
}

// A lease that another engine replaces (the next renewal gets 412) stops the server: status says postgres stopped and the lease lost, its log says why, and its port no longer answers.
//
// +check
func (m *Tests) StoreLostLeaseStopsTheServer(ctx context.Context) error {
	const project = "store-lost"
	return withStoreProject(ctx, project, func(store testStore, cc *dagger.Commandcenter) error {
		return leaseLost(ctx, store, cc, project)
	})
}

func leaseLost(ctx context.Context, store testStore, cc *dagger.Commandcenter, project string) error {
	if err := startDurable(ctx, cc); err != nil {
		return err
	}
	address, err := postgresAddress(ctx, cc)
	if err != nil {
		return err
	}
	if err := pgAnswers(ctx, address, true); err != nil {
		return err
	}
	if _, err := store.rival(project, "held").WithExec([]string{"sh", "-c", putLease + "put"}).Sync(ctx); err != nil {
		return fmt.Errorf("the rival replaces the lease: %w", explain(err))
	}
	if _, err := waitProtection(ctx, cc, "the lease lost", func(p protectionStatus) bool { return p.Lease == "lost" }); err != nil {
		return err
	}
	if err := waitState(ctx, cc, "postgres", "stopped"); err != nil {
		return err
	}
	logs, err := serviceLogs(ctx, cc, "postgres", 200)
	if err != nil || !strings.Contains(logs, "LOST the store's lease") {
		return fmt.Errorf("postgres logs: wanted the lost lease named, got (%v):\n%s", err, logs)
	}
	return pgAnswers(ctx, address, false)
}

// postgresAddress is the address that the running postgres recorded on its run volume.
func postgresAddress(ctx context.Context, cc *dagger.Commandcenter) (string, error) {
	out, err := cc.Container("postgres").WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"sh", "-c", `sed -n 's/^address=//p' "$COMMANDCENTER_LOG_DIR/postgres.run"`}).Stdout(ctx)
	address := strings.TrimSpace(out)
	if err != nil || address == "" {
		return "", fmt.Errorf("read postgres's address: got %q (%v)", address, explain(err))
	}
	return address, nil
}

// pgAnswers checks, from a client that binds no service, whether a server
// answers at address: pg_isready exits 2 when nothing answers.
func pgAnswers(ctx context.Context, address string, want bool) error {
	out, err := dag.Container().From(postgresImage).WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"sh", "-c", `pg_isready -h "$1" -t 5; echo "status $?"`, "sh", address}).Stdout(ctx)
	if err != nil {
		return fmt.Errorf("pg_isready at %s: %w", address, explain(err))
	}
	if answers := !strings.Contains(out, "status 2"); answers != want {
		return fmt.Errorf("postgres at %s: wanted answering %v, got:\n%s", address, want, out)
	}
	return nil
}

// fakeS3 is an S3 stand-in that takes every write, whatever its conditions,
// and holds nothing: it lists an empty bucket, finds no object, and answers
// every PUT with 200 and every DELETE with 204.
const fakeS3 = `import http.server, ssl
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
        self.reply(200)
    def do_DELETE(self):
        self.reply(204)
server = http.server.HTTPServer(("", 7070), Handler)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain("/certs/s3.crt", "/certs/s3.key")
server.socket = tls.wrap_socket(server.socket, server_side=True)
server.serve_forever()
`

// A store that ignores If-None-Match (it takes a second conditional PUT of one object) is refused before anything starts, and the error says why.
//
// +check
func (m *Tests) StoreWithoutConditionalWritesIsRefused(ctx context.Context) error {
	fake, err := fakeStore(fakeS3)
	if err != nil {
		return err
	}
	cc := dag.Commandcenter(fake.options("store-unconditional", storeKeyID, storeKeyValue))
	err = refusedStart(ctx, cc, "a store without conditional writes", "does not enforce conditional writes", "got 200, not 412")
	_, serr := fake.service.Stop(ctx)
	return errors.Join(err, serr)
}

// A store whose TLS certificate does not verify against --store-ca is refused before anything starts, and the error names --store-ca.
//
// +check
func (m *Tests) StoreBadCertificateNamesStoreCA(ctx context.Context) error {
	store, err := newStore(ctx, "bad-ca"+nonce())
	if err != nil {
		return err
	}
	otherCA, _, err := selfSigned(storeHost)
	if err != nil {
		return err
	}
	opts := store.options("store-bad-ca", storeKeyID, storeKeyValue)
	opts.StoreCa = dag.SetSecret("store-ca-other-"+nonce(), otherCA)
	err = refusedStart(ctx, dag.Commandcenter(opts), "a certificate of another authority", "TLS certificate was not accepted", "--store-ca")
	return errors.Join(err, store.shutdown(ctx))
}

// refusedStart wants cc's start refused with an error that holds every
// part of want, and postgres never started.
func refusedStart(ctx context.Context, cc *dagger.Commandcenter, what string, want ...string) error {
	_, err := cc.Start().Project(ctx)
	if err == nil {
		return errors.Join(fmt.Errorf("%s: wanted the start refused, it started", what), stop(ctx, cc))
	}
	for _, part := range want {
		if !strings.Contains(err.Error(), part) {
			return fmt.Errorf("%s: wanted an error with %q, got %v", what, part, err)
		}
	}
	pg, err := serviceStatus(ctx, cc, "postgres")
	if err != nil {
		return err
	}
	if pg.State != "never-started" {
		return fmt.Errorf("%s: wanted postgres never started, got %+v", what, pg)
	}
	return nil
}

// A row written while the stack serves is archived within 60 s, without a stop: status names a newer archived WAL segment, archived at most 60 s after the write, and the bucket holds that segment.
//
// +check
func (m *Tests) StoreArchivesWithin60Seconds(ctx context.Context) error {
	const project = "store-wal60"
	return withStoreProject(ctx, project, func(store testStore, cc *dagger.Commandcenter) error {
		return archivedWithin(ctx, store, cc, project, 60*time.Second)
	})
}

func archivedWithin(ctx context.Context, store testStore, cc *dagger.Commandcenter, project string, limit time.Duration) error {
	if err := startDurable(ctx, cc); err != nil {
		return err
	}
	if _, err := psqlURL(ctx, cc, "CREATE TABLE IF NOT EXISTS notes (body text); INSERT INTO notes VALUES ('within a minute')"); err != nil {
		return err
	}
	out, err := psqlURL(ctx, cc, `SELECT pg_walfile_name(pg_current_wal_lsn()) || ' ' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`)
	if err != nil {
		return err
	}
	segment, at, _ := strings.Cut(out, " ")
	written, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return fmt.Errorf("the write's time: wanted RFC 3339, got %q", out)
	}
	p, err := waitProtection(ctx, cc, "the segment "+segment+" archived", func(p protectionStatus) bool { return p.LastArchivedWAL >= segment })
	if err != nil {
		return err
	}
	archived, err := time.Parse(time.RFC3339, p.LastArchivedAt)
	if err != nil {
		return fmt.Errorf("last_archived_at: wanted RFC 3339, got %q", p.LastArchivedAt)
	}
	// Both times have whole seconds: one more second is their rounding.
	if took := archived.Sub(written); took > limit+time.Second {
		return fmt.Errorf("segment %s: wanted it archived within %s of the write, it was %s later (archived %s)", segment, limit, took, p.LastArchivedWAL)
	}
	files, err := storeFiles(ctx, store, project)
	if err != nil {
		return err
	}
	if !strings.Contains(files, "/"+segment+"-") {
		return fmt.Errorf("the bucket: wanted the segment %s in it, got:\n%s", segment, files)
	}
	return nil
}

// storeFiles lists the files that the store holds under project's
// prefix, one a line, as its posix backend keeps them.
func storeFiles(ctx context.Context, store testStore, project string) (string, error) {
	out, err := store.readData(ctx, `d=/data/`+storeBucket+`/tests/`+project+`; [ ! -d "$d" ] || find "$d" -type f | sort`)
	if err != nil {
		return "", fmt.Errorf("list the bucket's files: %w", err)
	}
	return out, nil
}

// A plain reset deletes the store's copy (no object is left under the project's prefix), and the next start begins with a new database, restored from nothing.
//
// +check
func (m *Tests) StoreResetDeletesTheStoreCopy(ctx context.Context) error {
	const project = "store-reset"
	return withStoreProject(ctx, project, func(store testStore, cc *dagger.Commandcenter) error {
		return resetDrops(ctx, store, cc, project)
	})
}

func resetDrops(ctx context.Context, store testStore, cc *dagger.Commandcenter, project string) error {
	if err := startDurable(ctx, cc); err != nil {
		return err
	}
	if _, err := psqlURL(ctx, cc, "CREATE TABLE IF NOT EXISTS notes (body text); INSERT INTO notes VALUES ('before the reset')"); err != nil {
		return err
	}
	if err := stop(ctx, cc); err != nil {
		return err
	}
	files, err := storeFiles(ctx, store, project)
	if err != nil {
		return err
	}
	for _, part := range []string{"/archive/", "/backup/", "/commandcenter/lease"} {
		if !strings.Contains(files, part) {
			return fmt.Errorf("the bucket before the reset: wanted files under %s, got:\n%s", part, files)
		}
	}
	if err := reset(ctx, cc); err != nil {
		return err
	}
	if files, err = storeFiles(ctx, store, project); err != nil || files != "" {
		return fmt.Errorf("the bucket after the reset: wanted no file of the project, got (%v):\n%s", err, files)
	}
	if _, err := cc.Start().Project(ctx); err != nil {
		return fmt.Errorf("start after the reset: %w", err)
	}
	pg, err := serviceStatus(ctx, cc, "postgres")
	if err != nil {
		return err
	}
	if !pg.NewDatabase {
		return fmt.Errorf("status after the reset: wanted a new database, got %+v", pg)
	}
	logs, err := serviceLogs(ctx, cc, "postgres", 200)
	if err != nil || strings.Contains(logs, "restored from the store") || !strings.Contains(logs, "starts with a new, empty database") {
		return fmt.Errorf("postgres logs after the reset: wanted a new database and no restore, got (%v):\n%s", err, logs)
	}
	return nil
}

// The store is encrypted: once a row is written and archived, no object in the bucket holds its value, and every object of the archive and the backups is an encrypted file (OpenSSL's "Salted__"); the search itself reads the lease's plain text.
//
// +check
func (m *Tests) StoreIsEncrypted(ctx context.Context) error {
	const project = "store-cipher"
	return withStoreProject(ctx, project, func(store testStore, cc *dagger.Commandcenter) error {
		return encrypted(ctx, store, cc, project)
	})
}

func encrypted(ctx context.Context, store testStore, cc *dagger.Commandcenter, project string) error {
	if err := startDurable(ctx, cc); err != nil {
		return err
	}
	value := "plain-text-row-" + nonce()
	if _, err := psqlURL(ctx, cc, "CREATE TABLE IF NOT EXISTS notes (body text); INSERT INTO notes VALUES ('"+value+"')"); err != nil {
		return fmt.Errorf("write the row: %w", err)
	}
	if n, err := psqlURL(ctx, cc, "SELECT count(*) FROM notes WHERE body = '"+value+"'"); err != nil || n != "1" {
		return fmt.Errorf("write the row: wanted it written once, got %q (%v)", n, err)
	}
	segment, err := closeSegment(ctx, cc)
	if err != nil {
		return err
	}
	if _, err := waitProtection(ctx, cc, "the row's segment "+segment+" archived", func(p protectionStatus) bool { return p.LastArchivedWAL >= segment }); err != nil {
		return err
	}
	dir := "/data/" + storeBucket + "/tests/" + project
	out, err := store.readData(ctx, `d=`+dir+`
grep -rlF -e '`+value+`' -e state=held "$d"; [ $? -le 1 ] || exit 1
echo "--- not encrypted:"
find "$d/archive" "$d/backup" -type f -size +0 | while read -r f; do [ "$(head -c 8 "$f")" = Salted__ ] || echo "$f"; done
echo "--- archived:"
find "$d/archive" -type f -name '`+segment+`-*'`)
	if err != nil {
		return fmt.Errorf("read the bucket's files: %w", err)
	}
	holding, rest, _ := strings.Cut(out, "--- not encrypted:")
	plain, archived, _ := strings.Cut(rest, "--- archived:")
	switch {
	case strings.TrimSpace(archived) == "":
		return fmt.Errorf("the bucket: wanted the row's segment %s in it, got:\n%s", segment, out)
	case !strings.Contains(holding, "/commandcenter/lease"):
		return fmt.Errorf("the search of the bucket did not find the lease's plain text: it reads no object, got:\n%s", out)
	case strings.TrimSpace(strings.ReplaceAll(holding, dir+"/commandcenter/lease", "")) != "":
		return fmt.Errorf("the bucket: wanted no object with the row's value in plain text, found it in:\n%s", holding)
	case strings.TrimSpace(plain) != "":
		return fmt.Errorf("the bucket: wanted every archive and backup object encrypted, these are not:\n%s", plain)
	}
	return nil
}
