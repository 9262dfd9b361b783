package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"dagger/tests/internal/dagger"
)

// The durable store's tests, against a real S3 server in a container:
// versitygw over TLS, with a certificate authority made here.

const (
	storeBucket   = "ccstore"
	storeHost     = "s3"
	storeKeyID    = "cc-test-access"
	storeKeyValue = "cc-test-secret-value-0123456789"
	storeCipher   = "cc-test-encryption-key-0123456789"
)

// testStore is an S3 server of its own: its service, its certificate
// authority, and its data volume, where the test can take it down.
type testStore struct {
	service *dagger.Service
	ca      *dagger.Secret
	data    *dagger.CacheVolume
}

// fakeStore serves a Python stand-in of an S3 store (script, listening on
// 7070 with TLS) under the store's host name, for tests of how the module
// treats a store that misbehaves.
func fakeStore(script string) (testStore, error) {
	certPEM, keyPEM, err := selfSigned(storeHost)
	if err != nil {
		return testStore{}, err
	}
	return testStore{
		service: dag.Container().From(pythonImage).
			WithDirectory("/certs", dag.Directory().WithNewFile("s3.crt", certPEM).WithNewFile("s3.key", keyPEM)).
			WithNewFile("/fake-s3.py", script).
			WithExposedPort(7070).
			AsService(dagger.ContainerAsServiceOpts{Args: []string{"python3", "/fake-s3.py"}}),
		ca: dag.SetSecret("store-ca-fake-"+nonce(), certPEM),
	}, nil
}

// storeSupervisor runs the gateway ("$@") while /data/.down does not
// exist: the test takes the store down, and its port with it, by creating
// that file, and brings it back by removing it. /data/.exit ends it, so
// that no store is left for the end of the session to kill. A watchdog
// ends the gateway when the supervisor itself is killed.
const storeSupervisor = `supervisor=$$
until [ -e /data/.exit ]; do
	if [ -e /data/.down ]; then sleep 0.2; continue; fi
	"$@" & pid=$!
	(while kill -0 $supervisor 2>/dev/null && kill -0 $pid 2>/dev/null && [ ! -e /data/.down ] && [ ! -e /data/.exit ]; do sleep 0.2; done
	 kill $pid 2>/dev/null) &
	wait $pid
done`

// newStore starts versitygw with a bucket on a new volume, serving TLS
// for the host name "s3" with a certificate of a new authority.
func newStore(ctx context.Context, name string) (testStore, error) {
	certPEM, keyPEM, err := selfSigned(storeHost)
	if err != nil {
		return testStore{}, err
	}
	image := dag.Container().From("versity/versitygw:v1.8.0")
	entrypoint, err := image.Entrypoint(ctx)
	if err != nil {
		return testStore{}, err
	}
	data := dag.CacheVolume("commandcenter-tests-s3-" + name)
	certs := dag.Directory().WithNewFile("s3.crt", certPEM).WithNewFile("s3.key", keyPEM)
	svc := image.
		WithDirectory("/certs", certs).
		WithSecretVariable("ROOT_ACCESS_KEY", dag.SetSecret("store-key-id", storeKeyID)).
		WithSecretVariable("ROOT_SECRET_KEY", dag.SetSecret("store-key-secret", storeKeyValue)).
		WithMountedCache("/data", data).
		WithExec([]string{"mkdir", "-p", "/data/" + storeBucket}).
		WithEnvVariable("VGW_BACKEND", "posix").
		WithEnvVariable("VGW_BACKEND_ARG", "/data").
		WithEnvVariable("VGW_ARGS", "--port :7070 --cert /certs/s3.crt --key /certs/s3.key --health /health --quiet").
		WithExposedPort(7070).
		AsService(dagger.ContainerAsServiceOpts{Args: append([]string{"sh", "-c", storeSupervisor, "sh"}, entrypoint...)})
	return testStore{service: svc, ca: dag.SetSecret("store-ca-"+name, certPEM), data: data}, nil
}

// setDown takes the store down (its port closes) or brings it back.
func (s testStore) setDown(ctx context.Context, down bool) error {
	cmd := "rm -f /data/.down"
	if down {
		cmd = "touch /data/.down"
	}
	return s.onData(ctx, cmd)
}

// shutdown ends the store's service for good.
func (s testStore) shutdown(ctx context.Context) error {
	return s.onData(ctx, "touch /data/.exit")
}

// onData runs the shell command cmd on the store's data volume.
func (s testStore) onData(ctx context.Context, cmd string) error {
	_, err := s.readData(ctx, cmd)
	return err
}

// readData runs the shell command cmd on the store's data volume, where
// the posix backend keeps each object as a file, and returns its stdout.
func (s testStore) readData(ctx context.Context, cmd string) (string, error) {
	out, err := dag.Container().From(postgresImage).WithMountedCache("/data", s.data).
		WithEnvVariable("NONCE", nonce()).WithExec([]string{"sh", "-c", cmd}).Stdout(ctx)
	return strings.TrimSpace(out), explain(err)
}

// selfSigned makes a certificate for host, its own authority.
func selfSigned(host string) (certPEM, keyPEM string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(7 * 24 * time.Hour),
		IsCA:         true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})), nil
}

// options are the fixture's options for project with this store, with
// generated credentials and an encryption key.
func (s testStore) options(project, keyID, keySecret string) dagger.CommandcenterOpts {
	o := fixture(project)
	o.Store = "s3://" + storeBucket + "/tests"
	o.StoreEndpoint = storeHost + ":7070"
	o.StoreCredentials = dag.SetSecret("store-credentials-"+keyID+keySecret,
		"AWS_ACCESS_KEY_ID="+keyID+"\nexport AWS_SECRET_ACCESS_KEY=\""+keySecret+"\"\n")
	o.StoreCa = s.ca
	o.StoreEncryptionKey = dag.SetSecret("store-cipher", storeCipher)
	o.StoreService = s.service
	o.StoreLeaseSeconds = 15
	return o
}

// storeStatus is what the store tests read of Status.
type storeStatus struct {
	Protection struct {
		Store           string `json:"store"`
		Durable         bool   `json:"durable"`
		Warning         string `json:"warning"`
		LastArchivedWAL string `json:"last_archived_wal"`
		LastArchivedAt  string `json:"last_archived_at"`
		LastBackup      string `json:"last_backup"`
		Lease           string `json:"lease"`
	} `json:"protection"`
	Services []serviceEntry `json:"services"`
}

func readStoreStatus(ctx context.Context, cc *dagger.Commandcenter) (storeStatus, string, error) {
	var st storeStatus
	out, err := cc.Status(ctx)
	if err != nil {
		return st, "", fmt.Errorf("status: %w", err)
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return st, out, fmt.Errorf("status: wanted JSON, got %q", out)
	}
	return st, out, nil
}

// waitDurable polls Status until the protection is durable: a base backup
// is in the store and the WAL is archived.
func waitDurable(ctx context.Context, cc *dagger.Commandcenter) (storeStatus, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st, out, err := readStoreStatus(ctx, cc)
		if err != nil {
			return st, err
		}
		if st.Protection.Durable && st.Protection.LastBackup != "" {
			return st, nil
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("protection: wanted durable with a base backup within 2 min, got:\n%s", out)
		}
		time.Sleep(2 * time.Second)
	}
}

// withStoreProject runs body on project with a store of its own, then
// stops the project and resets it, the store's copy included.
func withStoreProject(ctx context.Context, project string, body func(testStore, *dagger.Commandcenter) error) error {
	store, err := newStore(ctx, project+nonce())
	if err != nil {
		return err
	}
	cc := dag.Commandcenter(store.options(project, storeKeyID, storeKeyValue))
	return errors.Join(body(store, cc), stop(ctx, cc), reset(ctx, cc), store.shutdown(ctx))
}

// startDurable starts the project and waits until the store has its base backup.
func startDurable(ctx context.Context, cc *dagger.Commandcenter) error {
	if _, err := cc.Start().Project(ctx); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	_, err := waitDurable(ctx, cc)
	return err
}

// Rows written, a graceful stop, the drill (the engine's copy dropped), and a start: every row is back, with the generated credentials.
//
// +check
func (m *Tests) StoreDrillRestoresEverything(ctx context.Context) error {
	const project = "store-drill"
	return withStoreProject(ctx, project, func(_ testStore, cc *dagger.Commandcenter) error {
		return drill(ctx, cc)
	})
}

func drill(ctx context.Context, cc *dagger.Commandcenter) error {
	if err := startDurable(ctx, cc); err != nil {
		return err
	}
	rows := "drill-" + nonce()
	if _, err := psqlURL(ctx, cc, "CREATE TABLE IF NOT EXISTS notes (body text); INSERT INTO notes SELECT '"+rows+"' FROM generate_series(1, 500)"); err != nil {
		return err
	}
	password, key, err := storeSecrets(ctx, cc)
	if err != nil {
		return err
	}
	if err := stop(ctx, cc); err != nil {
		return err
	}
	if _, err := cc.Reset(dagger.CommandcenterResetOpts{Yes: true, LocalOnly: true}).Project(ctx); err != nil {
		return fmt.Errorf("reset --local-only: %w", err)
	}
	if _, err := cc.Start().Project(ctx); err != nil {
		return fmt.Errorf("start after the drill: %w", err)
	}
	st, out, err := readStoreStatus(ctx, cc)
	if err != nil {
		return err
	}
	pg, err := findService(st.Services, "postgres", out)
	if err != nil {
		return err
	}
	if pg.NewDatabase || pg.Restored == nil || !pg.Restored.ThisInstance || pg.Restored.Target != "latest" {
		return fmt.Errorf("status after the drill: wanted postgres restored from the store at this start, got:\n%s", out)
	}
	count, err := psqlURL(ctx, cc, "SELECT count(*) FROM notes WHERE body = '"+rows+"'")
	if err != nil || count != "500" {
		return fmt.Errorf("rows after the drill: wanted all 500, got %q (%v)", count, err)
	}
	againPassword, againKey, err := storeSecrets(ctx, cc)
	if err != nil {
		return err
	}
	if againPassword != password || againKey != key {
		return errors.New("generated credentials after the drill: wanted the same database password and SECRET_KEY, got new ones")
	}
	if h, err := getBackendHealth(ctx, cc); err != nil || h.Status != "ok" {
		return fmt.Errorf("/health after the drill: wanted ok, got %+v (%v)", h, err)
	}
	if err := assertNotLeaked(ctx, cc, []string{password, key, storeKeyValue, storeCipher}); err != nil {
		return err
	}
	return assertNoFileHolds(ctx, cc, storeKeyValue, storeCipher)
}

// assertNoFileHolds checks that no file of the postgres container outside
// its secret mounts holds the store's secret key or the encryption key:
// its image, its volumes and its temporary files.
func assertNoFileHolds(ctx context.Context, cc *dagger.Commandcenter, secrets ...string) error {
	pg := cc.Container("postgres")
	files, err := filesHolding(ctx, pg, "/", secrets)
	if err != nil {
		return fmt.Errorf("search the postgres container's files: %w", err)
	}
	if files != "" {
		return fmt.Errorf("wanted the store's keys in no file outside the secret mounts, found them in: %s", files)
	}
	// The same search finds the key where it belongs: the search works.
	mount, err := filesHolding(ctx, pg, "/run/secrets", secrets[:1])
	if err != nil || !strings.Contains(mount, "store-credentials") {
		return fmt.Errorf("the search did not find the key in its own secret mount: %q (%v)", mount, err)
	}
	return nil
}

// storeSecrets reads the generated database password and SECRET_KEY, which
// postgres keeps with a store.
func storeSecrets(ctx context.Context, cc *dagger.Commandcenter) (password, key string, err error) {
	read := func(name string) (string, error) {
		out, err := cc.Container("postgres").WithEnvVariable("NONCE", nonce()).
			WithExec([]string{"cat", "/var/lib/commandcenter-db/" + name}).Stdout(ctx)
		if err != nil || len(out) != 40 {
			return "", fmt.Errorf("read the generated %s: wanted 40 characters, got %d (%v)", name, len(out), explain(err))
		}
		return out, nil
	}
	if password, err = read("db-password"); err != nil {
		return "", "", err
	}
	key, err = read("secret-key")
	return password, key, err
}

// A restore to a point in time between two writes brings back the first write only; a time outside the store's range is refused with the range.
//
// +check
func (m *Tests) StorePointInTimeRestore(ctx context.Context) error {
	const project = "store-pitr"
	return withStoreProject(ctx, project, func(_ testStore, cc *dagger.Commandcenter) error {
		return pointInTime(ctx, cc)
	})
}

func pointInTime(ctx context.Context, cc *dagger.Commandcenter) error {
	if err := startDurable(ctx, cc); err != nil {
		return err
	}
	if _, err := psqlURL(ctx, cc, "CREATE TABLE IF NOT EXISTS notes (body text); INSERT INTO notes VALUES ('first')"); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	between, err := psqlURL(ctx, cc, "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	if _, err := psqlURL(ctx, cc, "INSERT INTO notes VALUES ('second')"); err != nil {
		return err
	}
	if err := stop(ctx, cc); err != nil {
		return err
	}
	_, err = cc.Restore(dagger.CommandcenterRestoreOpts{FromStore: true, Time: "2001-01-01T00:00:00Z"}).Project(ctx)
	if err == nil || !strings.Contains(err.Error(), "outside what the store holds") || !strings.Contains(err.Error(), "the data was not changed") {
		return fmt.Errorf("restore to 2001: wanted a refusal with the store's range, got %v", err)
	}
	if _, err := cc.Restore(dagger.CommandcenterRestoreOpts{FromStore: true, Time: between}).Start().Project(ctx); err != nil {
		return fmt.Errorf("restore --from-store --time %s, then start: %w", between, err)
	}
	rows, err := psqlURL(ctx, cc, "SELECT string_agg(body, ',' ORDER BY body) FROM notes")
	if err != nil || rows != "first" {
		return fmt.Errorf("rows after the restore to %s: wanted only the first write, got %q (%v)", between, rows, err)
	}
	return nil
}

// Bad store input fails before anything starts, naming the flag: wrong keys, a bucket that does not exist, an endpoint that does not answer, --local-only without a store.
//
// +check
func (m *Tests) StoreBadInputFailsFast(ctx context.Context) error {
	store, err := newStore(ctx, "bad-input"+nonce())
	if err != nil {
		return err
	}
	wrongKeys := store.options("store-bad-keys", storeKeyID, "not-the-secret")
	noBucket := store.options("store-no-bucket", storeKeyID, storeKeyValue)
	noBucket.Store = "s3://no-such-bucket/x"
	noAnswer := store.options("store-no-answer", storeKeyID, storeKeyValue)
	noAnswer.StoreEndpoint = storeHost + ":7071"
	cases := []struct {
		name string
		opts dagger.CommandcenterOpts
		want string
	}{
		{"wrong keys", wrongKeys, "--store-credentials"},
		{"no bucket", noBucket, "does not exist"},
		{"an endpoint that does not answer", noAnswer, "did not answer"},
	}
	var errs []error
	for _, c := range cases {
		began := time.Now()
		cc := dag.Commandcenter(c.opts)
		_, err := cc.Start().Project(ctx)
		switch {
		case err == nil:
			errs = append(errs, errors.Join(fmt.Errorf("%s: wanted the start refused, it started", c.name), stop(ctx, cc)))
		case !strings.Contains(err.Error(), c.want):
			errs = append(errs, fmt.Errorf("%s: wanted an error naming %q, got %v", c.name, c.want, err))
		case time.Since(began) > 90*time.Second:
			errs = append(errs, fmt.Errorf("%s: wanted a fast refusal, took %s", c.name, time.Since(began)))
		}
		errs = append(errs, neverStarted(ctx, cc, c.name))
	}
	_, err = dag.Commandcenter(fixture("store-none")).Reset(dagger.CommandcenterResetOpts{Yes: true, LocalOnly: true}).Project(ctx)
	if err == nil || !strings.Contains(err.Error(), "no store") {
		errs = append(errs, fmt.Errorf("reset --local-only without a store: wanted a refusal, got %v", err))
	}
	return errors.Join(append(errs, store.shutdown(ctx))...)
}

// rival is a client of the store that writes the project's lease as
// another engine would: held by copy "rival" (renewLease, every 2 s), or
// released by it (putLease, once).
func (s testStore) rival(project, state string) *dagger.Container {
	return dag.Container().From(postgresImage).
		WithExec([]string{"sh", "-c", "command -v curl || { command -v apk >/dev/null && apk add --no-cache curl; } || { apt-get update -qq && apt-get install -y -qq curl; }"}).
		WithServiceBinding(storeHost, s.service).
		WithMountedSecret("/ca.pem", s.ca).
		WithSecretVariable("KEYS", dag.SetSecret("store-rival-keys", "user = \""+storeKeyID+":"+storeKeyValue+"\"")).
		WithEnvVariable("LEASE", "https://"+storeHost+":7070/"+storeBucket+"/tests/"+project+"/commandcenter/lease").
		WithEnvVariable("STATE", state).
		WithEnvVariable("NONCE", nonce())
}

const putLease = `put() {
	printf 'copy=rival\nstate=%s\nhost=rival-engine\nat=%s\n' "$STATE" "$(date -u +%FT%TZ)" >/tmp/lease
	printf '%s\n' "$KEYS" | curl -sSf -K - --cacert /ca.pem --aws-sigv4 aws:amz:us-east-1:s3 -X PUT \
		-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -T /tmp/lease "$LEASE" >/dev/null
}
`

const renewLease = putLease + `while :; do put; sleep 2; done`

// getLease prints the lease object as the store holds it.
const getLease = `printf '%s\n' "$KEYS" | curl -sSf -K - --cacert /ca.pem --aws-sigv4 aws:amz:us-east-1:s3 \
	-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$LEASE"`

// takeOver starts the project once the rival stopped renewing its lease,
// and proves the takeover by what the taker did, not by how long it took:
// its log says it took over the rival's lease, Status says it holds the
// lease, and the store's lease names another copy than the rival.
func takeOver(ctx context.Context, store testStore, cc *dagger.Commandcenter, project string) error {
	const said = "the lease of copy rival was not renewed"
	logs, err := serviceLogs(ctx, cc, "postgres", 5000)
	if err != nil {
		return err
	}
	before := count(logs, said)
	if _, err := cc.Start().Project(ctx); err != nil {
		return fmt.Errorf("start once the rival's lease lapsed: %w", err)
	}
	if logs, err = serviceLogs(ctx, cc, "postgres", 5000); err != nil {
		return err
	}
	if n := count(logs, said); n != before+1 || count(logs, "taking it over") == 0 {
		return fmt.Errorf("postgres logs after the takeover: wanted one more %q line and \"taking it over\", got %d (before %d):\n%s", said, n, before, logs)
	}
	st, out, err := readStoreStatus(ctx, cc)
	if err != nil || st.Protection.Lease != "held" {
		return fmt.Errorf("status after the takeover: wanted the lease held, got %v:\n%s", err, out)
	}
	held, err := store.rival(project, "").WithExec([]string{"sh", "-c", getLease}).Stdout(ctx)
	if err != nil {
		return fmt.Errorf("read the store's lease: %w", explain(err))
	}
	if !strings.Contains(held, "state=held") || !strings.Contains(held, "copy=") || strings.Contains(held, "copy=rival\n") {
		return fmt.Errorf("the store's lease after the takeover: wanted it held by this engine's copy, got:\n%s", held)
	}
	return nil
}

// A lease that another engine renews refuses the start; one that lapses is taken over; a lease that another copy released, without writing to the store, does not make this copy older: it starts.
//
// +check
func (m *Tests) StoreLeaseKeepsEnginesApart(ctx context.Context) error {
	const project = "store-lease"
	return withStoreProject(ctx, project, func(store testStore, cc *dagger.Commandcenter) error {
		return lease(ctx, store, cc, project)
	})
}

func lease(ctx context.Context, store testStore, cc *dagger.Commandcenter, project string) error {
	if _, err := cc.Reset(dagger.CommandcenterResetOpts{Yes: true, LocalOnly: true}).Project(ctx); err != nil {
		return fmt.Errorf("drop this engine's copy: %w", err)
	}
	live := store.rival(project, "held").AsService(dagger.ContainerAsServiceOpts{Args: []string{"sh", "-c", renewLease}})
	if _, err := live.Start(ctx); err != nil {
		return fmt.Errorf("start the rival engine's renewals: %w", explain(err))
	}
	began := time.Now()
	_, err := cc.Start().Project(ctx)
	if _, serr := live.Stop(ctx); serr != nil {
		return serr
	}
	if err == nil || !strings.Contains(err.Error(), "runs on another engine") || !strings.Contains(err.Error(), "rival-engine") {
		return fmt.Errorf("start against a live lease: wanted a refusal naming the other engine, got %v", err)
	}
	// The refusal is proven by its message; the lease's 15 s + 5 s wait on
	// a busy engine took 2.5 min: only a start that never gives up takes 10.
	if took := time.Since(began); took > 10*time.Minute {
		return fmt.Errorf("start against a live lease: wanted a refusal, not a hang; took %s", took)
	}
	if err := takeOver(ctx, store, cc, project); err != nil {
		return err
	}
	if err := stop(ctx, cc); err != nil {
		return err
	}
	// The rival writes the lease and releases it, with no WAL of its own:
	// this copy still holds everything the store does (the same system
	// identifier, at its newest segment), so the lease alone does not make
	// it older. A copy behind the store is refused: unit tests
	// (TestClaimComparesTheDatabasesIdentityAndPosition).
	if _, err := store.rival(project, "released").WithExec([]string{"sh", "-c", putLease + "put"}).Sync(ctx); err != nil {
		return fmt.Errorf("the rival writes and releases the lease: %w", explain(err))
	}
	if _, err := cc.Start().Project(ctx); err != nil {
		return fmt.Errorf("start of a copy that holds all the store does, after another copy released the lease: wanted it started, got %v", err)
	}
	return nil
}

// The store goes down while the stack serves: the app keeps serving, the protection reports the failure and since when, and the copy fences itself (its lease unrenewed); once the store is back it renews its own lease and archiving catches up.
//
// +check
func (m *Tests) StoreOutageIsReportedAndCaughtUp(ctx context.Context) error {
	const project = "store-outage"
	return withStoreProject(ctx, project, func(store testStore, cc *dagger.Commandcenter) error {
		return outage(ctx, store, cc)
	})
}

func outage(ctx context.Context, store testStore, cc *dagger.Commandcenter) error {
	if err := startDurable(ctx, cc); err != nil {
		return err
	}
	if err := store.setDown(ctx, true); err != nil {
		return fmt.Errorf("take the store down: %w", err)
	}
	if _, err := psqlURL(ctx, cc, "CREATE TABLE IF NOT EXISTS notes (body text); INSERT INTO notes VALUES ('during the outage')"); err != nil {
		return err
	}
	wal, err := closeSegment(ctx, cc)
	if err != nil {
		return err
	}
	down, err := waitProtection(ctx, cc, "archiving to fail, and the copy fenced", func(p protectionStatus) bool {
		return p.ArchiveFailingSince != "" && !p.Durable && strings.Contains(p.Warning, "archiving to the store fails since") && p.Lease == "fenced"
	})
	if err != nil {
		return err
	}
	if h, err := getBackendHealth(ctx, cc); err != nil || h.Status != "ok" {
		return fmt.Errorf("/health while the store is down: wanted ok, got %+v (%v)", h, err)
	}
	if err := store.setDown(ctx, false); err != nil {
		return fmt.Errorf("bring the store back: %w", err)
	}
	_, err = waitProtection(ctx, cc, "the lease renewed and archiving to catch up with "+wal, func(p protectionStatus) bool {
		return p.ArchiveFailingSince == "" && p.Durable && p.LastArchivedWAL >= wal && p.Lease == "held"
	})
	if err != nil {
		return fmt.Errorf("%w (failing since %s)", err, down.ArchiveFailingSince)
	}
	return nil
}

type protectionStatus struct {
	Durable             bool   `json:"durable"`
	Warning             string `json:"warning"`
	LastArchivedWAL     string `json:"last_archived_wal"`
	LastArchivedAt      string `json:"last_archived_at"`
	Lease               string `json:"lease"`
	ArchiveFailingSince string `json:"archive_failing_since"`
}

// waitProtection polls Status, at most 4 min, until ok holds of its protection.
func waitProtection(ctx context.Context, cc *dagger.Commandcenter, what string, ok func(protectionStatus) bool) (protectionStatus, error) {
	var p protectionStatus
	out := ""
	for deadline := time.Now().Add(4 * time.Minute); time.Now().Before(deadline); time.Sleep(3 * time.Second) {
		var err error
		if out, err = cc.Status(ctx); err != nil {
			return p, fmt.Errorf("status: %w", err)
		}
		var st struct {
			Protection protectionStatus `json:"protection"`
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			return p, fmt.Errorf("status: wanted JSON, got %q", out)
		}
		if p = st.Protection; ok(p) {
			return p, nil
		}
	}
	return p, fmt.Errorf("protection: waited 4 min for %s, last status:\n%s", what, out)
}

// neverStarted checks that Status says the project's postgres never
// started; a Status that fails is the check's failure.
func neverStarted(ctx context.Context, cc *dagger.Commandcenter, name string) error {
	pg, err := serviceStatus(ctx, cc, "postgres")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if pg.State != "never-started" {
		return fmt.Errorf("%s: wanted postgres never started, got %q", name, pg.State)
	}
	return nil
}
