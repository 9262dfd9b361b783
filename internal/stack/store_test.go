package stack

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func validStore() Store {
	return Store{URL: "s3://team-backups/cc", Endpoint: "minio.internal:9000", Region: "us-east-1", LeaseSeconds: 60, BackupInterval: "24h"}
}

func TestStoreTarget(t *testing.T) {
	tests := []struct {
		name  string
		store Store
		want  StoreTarget
		url   string
	}{
		{"custom endpoint, path style", validStore(),
			StoreTarget{Bucket: "team-backups", Prefix: "cc", Host: "minio.internal", Port: 9000, Region: "us-east-1", URIStyle: "path"},
			"https://minio.internal:9000/team-backups"},
		{"AWS by default, host style", Store{URL: "s3://b-1.x/", Region: "eu-west-3"},
			StoreTarget{Bucket: "b-1.x", Host: "s3.eu-west-3.amazonaws.com", Port: 443, Region: "eu-west-3", URIStyle: "host"},
			"https://b-1.x.s3.eu-west-3.amazonaws.com"},
		{"https URL endpoint, nested prefix", Store{URL: "s3://bkt/a/b/", Endpoint: "https://acc.r2.cloudflarestorage.com", Region: "auto"},
			StoreTarget{Bucket: "bkt", Prefix: "a/b", Host: "acc.r2.cloudflarestorage.com", Port: 443, Region: "auto", URIStyle: "path"},
			"https://acc.r2.cloudflarestorage.com/bkt"},
	}
	for _, tt := range tests {
		got, err := tt.store.Target()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: Target() mismatch (-want +got):\n%s", tt.name, diff)
		}
		if got.BucketURL() != tt.url {
			t.Errorf("%s: BucketURL() = %q, want %q", tt.name, got.BucketURL(), tt.url)
		}
	}
}

func TestStoreValidateNamesTheFlag(t *testing.T) {
	full := StoreGiven{Credentials: true, EncryptionKey: true}
	tests := []struct {
		name  string
		store func(*Store)
		given StoreGiven
		db    Given
		want  string
	}{
		{"not an S3 URL", func(s *Store) { s.URL = "https://bucket/x" }, full, Given{}, "--store \"https://bucket/x\": want an S3 URL"},
		{"bad bucket", func(s *Store) { s.URL = "s3://B_ad/x" }, full, Given{}, "is not an S3 bucket name"},
		{"prefix escapes", func(s *Store) { s.URL = "s3://bucket/a/../b" }, full, Given{}, "prefix"},
		{"plain http", func(s *Store) { s.Endpoint = "http://minio:9000" }, full, Given{}, "only over TLS"},
		{"bad port", func(s *Store) { s.Endpoint = "minio:99999" }, full, Given{}, "--store-endpoint"},
		{"bad region", func(s *Store) { s.Region = "US East" }, full, Given{}, "--store-region"},
		{"bad style", func(s *Store) { s.URIStyle = "virtual" }, full, Given{}, "--store-uri-style"},
		{"no credentials", func(*Store) {}, StoreGiven{EncryptionKey: true}, Given{}, "--store needs --store-credentials"},
		{"generated secrets unencrypted", func(*Store) {}, StoreGiven{Credentials: true}, Given{DBPassword: true}, "--store-encryption-key"},
		{"lease too short", func(s *Store) { s.LeaseSeconds = 5 }, full, Given{}, "--store-lease-seconds"},
		{"interval too short", func(s *Store) { s.BackupInterval = "10s" }, full, Given{}, "--store-backup-interval"},
		{"store flags without a store", func(s *Store) { s.URL = "" }, StoreGiven{Credentials: true}, Given{}, "add --store"},
	}
	for _, tt := range tests {
		s := validStore()
		tt.store(&s)
		err := s.Validate(tt.given, tt.db)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate() = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	if err := validStore().Validate(StoreGiven{Credentials: true}, Given{DBPassword: true, SecretKey: true}); err != nil {
		t.Errorf("given secrets need no encryption key: %v", err)
	}
	if err := (Store{Region: "us-east-1"}).Validate(StoreGiven{}, Given{}); err != nil {
		t.Errorf("no store: %v", err)
	}
}

func TestPgBackRestConfig(t *testing.T) {
	target, err := validStore().Target()
	if err != nil {
		t.Fatal(err)
	}
	got := PgBackRestConfig("shop", target, StoreGiven{Credentials: true, CA: true, EncryptionKey: true})
	for _, line := range []string{"repo1-s3-bucket=team-backups", "repo1-s3-endpoint=minio.internal", "repo1-storage-port=9000",
		"repo1-path=/cc/shop", "repo1-s3-uri-style=path", "repo1-storage-ca-file=" + StoreCAFile,
		"repo1-cipher-type=aes-256-cbc", "cmd=/usr/local/bin/commandcenter-pgbackrest", "[shop]", "pg1-path=" + PGData,
		"archive-async=y", "spool-path=" + PGData + "/pgbackrest-spool", "compress-type=lz4", "compress-level=1",
		"[global:archive-push]\nprocess-max=2", "[global:backup]\nexclude=pgbackrest-spool", "repo1-retention-full=2"} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("PgBackRestConfig() lacks %q:\n%s", line, got)
		}
	}
	// archive-push-queue-max acknowledges the segments it drops: never set
	for _, secret := range []string{"s3-key", "cipher-pass", "verify-tls", "queue-max"} {
		if strings.Contains(got, secret) {
			t.Errorf("PgBackRestConfig() sets %q, which must come from the environment or never be set:\n%s", secret, got)
		}
	}
	if key := target.LeaseKey("shop"); key != "cc/shop/commandcenter/lease" {
		t.Errorf("LeaseKey() = %q", key)
	}
}

func TestSecretKeyMovesToPostgresWithAStore(t *testing.T) {
	got := Given{Store: true}.SecretFiles()
	if got.SecretKey != GeneratedDBDir+"/secret-key" || got.GenerateSecretKey || !got.PostgresGeneratesSecretKey {
		t.Errorf("with a store, the generated SECRET_KEY is postgres's to make: got %+v", got)
	}
	env := Config{Project: "p", Store: validStore(), StoreGiven: StoreGiven{Credentials: true}}.moduleEnv(Postgres, got)
	want := map[string]string{"SECRET_KEY_FILE": GeneratedDBDir + "/secret-key", "COMMANDCENTER_STOP_GRACE": "30",
		"COMMANDCENTER_BEFORE_STOP": "/usr/local/bin/commandcenter-pg-store flush", "COMMANDCENTER_STORE": "s3://team-backups/cc",
		"COMMANDCENTER_STORE_BACKUP_SECONDS": "86400", "COMMANDCENTER_STORE_FULL_SECONDS": "604800"}
	for _, e := range env {
		if v, ok := want[e.Name]; ok && v == e.Value {
			delete(want, e.Name)
		}
		if strings.Contains(e.Name, "KEY_SECRET") || strings.Contains(e.Name, "CIPHER") {
			t.Errorf("postgres env has %s", e.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("postgres env lacks %v: %v", want, env)
	}
}

const infoJSON = `[{"archive":[{"id":"15-1","max":"000000010000000000000005","min":"000000010000000000000001"}],
"backup":[{"label":"20261201-100000F","timestamp":{"start":1764583190,"stop":1764583200},"type":"full"},
{"label":"20261202-100000F","timestamp":{"start":1764669590,"stop":1764669600},"type":"full"}],
"name":"shop","status":{"code":0,"lock":{"backup":{"held":false}},"message":"ok"}}]`

const archiveJSON = `{".":{"type":"path"},"15-1/archive.info":{"type":"file","time":1764999999},
"15-1/0000000100000000/000000010000000000000005-abc.lz4":{"type":"file","size":1,"time":1764670000},
"15-1/0000000100000000/000000010000000000000004-abc.lz4":{"type":"file","size":1,"time":1764669000}}`

func TestStoreRange(t *testing.T) {
	r, err := ParseStoreRange(infoJSON, archiveJSON)
	if err != nil {
		t.Fatal(err)
	}
	want := StoreRange{Oldest: time.Unix(1764583200, 0).UTC(), Latest: time.Unix(1764670000, 0).UTC(), Backups: 2, LatestBackup: "20261202-100000F"}
	if diff := cmp.Diff(want, r, cmpopts.IgnoreUnexported(StoreRange{})); diff != "" {
		t.Fatalf("ParseStoreRange() mismatch (-want +got):\n%s", diff)
	}
	if err := r.Check("shop", time.Unix(1764600000, 0)); err != nil {
		t.Errorf("a time inside the range: %v", err)
	}
	for _, outside := range []int64{1764583199, 1764670001} {
		err := r.Check("shop", time.Unix(outside, 0))
		if err == nil || !strings.Contains(err.Error(), "from 2025-12-01T10:00:00Z") || !strings.Contains(err.Error(), "not changed") {
			t.Errorf("a time outside the range (%d): got %v, want the range and that nothing changed", outside, err)
		}
	}
	empty, err := ParseStoreRange(`[{"backup":[],"status":{"code":2,"message":"no valid backups"}}]`, `{}`)
	if err != nil || empty.Check("shop", time.Now()) == nil {
		t.Errorf("a store without backups: wanted a refusal, got %v / %v", err, empty)
	}
	if _, err := ParseStoreRange(`[{"status":{"code":99,"message":"other: unable to reach"}}]`, `{}`); err == nil || !strings.Contains(err.Error(), "unable to reach") {
		t.Errorf("an unreachable store: wanted its message, got %v", err)
	}
}

func TestStoreRestorePlan(t *testing.T) {
	r := StoreRange{Oldest: time.Unix(1000, 0).UTC(), Latest: time.Unix(5000, 0).UTC(), Backups: 1}
	tests := []struct {
		name         string
		held         StoreRange
		at           time.Time
		wantTarget   time.Time
		wantRecovery string
		wantErr      string
	}{
		{"no --time: the latest archived WAL, to the end of the archive", r, time.Time{}, r.Latest, "", ""},
		{"--time inside the range", r, time.Unix(2000, 0), time.Unix(2000, 0), "1970-01-01 00:33:20.000000+00", ""},
		{"--time before the oldest backup", r, time.Unix(999, 0), time.Time{}, "", "outside what the store holds"},
		{"--time after the latest WAL", r, time.Unix(5001, 0), time.Time{}, "", "outside what the store holds"},
		{"no base backup, no --time", StoreRange{}, time.Time{}, time.Time{}, "", "no base backup"},
	}
	for _, tt := range tests {
		target, recovery, err := tt.held.Plan("shop", tt.at)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "not changed") {
				t.Errorf("%s: got %v, want an error with %q that says nothing changed", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !target.Equal(tt.wantTarget) || recovery != tt.wantRecovery {
			t.Errorf("%s: got %s, %q, %v; want %s, %q", tt.name, target, recovery, err, tt.wantTarget, tt.wantRecovery)
		}
	}
}

func TestRestoreTime(t *testing.T) {
	got, err := ParseRestoreTime("2026-12-01T11:00:00.5+01:00")
	if err != nil || RecoveryTarget(got) != "2026-12-01 10:00:00.500000+00" {
		t.Errorf("RecoveryTarget() = %q (%v)", RecoveryTarget(got), err)
	}
	if _, err := ParseRestoreTime("yesterday"); err == nil || !strings.Contains(err.Error(), "--time") {
		t.Errorf("a bad --time: got %v", err)
	}
}

func TestProtectionOfAStore(t *testing.T) {
	store := validStore()
	records := func(extra ...string) ServiceStatus {
		f := map[string]string{"archive_wal": "000000010000000000000007", "archive_at": "2026-12-01T10:00:00Z",
			"backup_label": "20261201-090000F", "backup_at": "2026-12-01T09:00:00Z", "lease_state": "held"}
		for i := 0; i+1 < len(extra); i += 2 {
			f[extra[i]] = extra[i+1]
		}
		return ServiceStatus{Service: Postgres, Records: f}
	}
	running := func(st ServiceStatus) ServiceStatus {
		st.State = StateRunning
		return st
	}
	tests := []struct {
		name    string
		pg      ServiceStatus
		durable bool
		warning string
	}{
		{"archiving, with a base backup, the lease held", records(), true, ""},
		{"archiving fails", records("archive_failing_since", "2026-12-01T10:01:00Z", "archive_failures", "4", "archive_error", "unable to reach"),
			false, "archiving to the store fails since 2026-12-01T10:01:00Z (4 attempts; unable to reach): writes since 2026-12-01T10:00:00Z"},
		{"no base backup yet", records("backup_label", ""), false, "no base backup"},
		{"fenced, nothing to archive yet", records("lease_state", "fenced", "lease_error", "renewal failed: the store did not answer"), false,
			"could not renew the store's lease in time, and writes nothing to the store until it does (renewal failed: the store did not answer)"},
		{"the lease lost", records("lease_state", "lost", "lease_error", "another copy replaced this copy's lease"), false, "lost the store's lease"},
		{"nothing recorded: postgres never ran with the store", ServiceStatus{Service: Postgres}, false, "no base backup"},
		{"killed: its last writes only in this engine", records("wal_cluster_state", "in production"), false,
			"postgres does not run, and this engine holds WAL that the store lacks: what the killed server wrote after its last archived segment"},
		{"stopped while the store was down", records("wal_cluster_state", "shut down", "wal_unarchived", "000000010000000000000008"), false,
			"1 WAL segment(s) not yet in the store (000000010000000000000008). Its next start archives it"},
		{"stopped cleanly, everything in the store", records("wal_cluster_state", "shut down", "lease_state", "released"), true, ""},
		{"running, segments waiting for the archiver", running(records("wal_cluster_state", "in production", "wal_unarchived", "000000010000000000000008")), true, ""},
	}
	for _, tt := range tests {
		p := ProtectionOf(store, []ServiceStatus{{Service: Redis}, tt.pg})
		if p.Durable != tt.durable || !strings.Contains(p.Warning, tt.warning) || p.Store != store.URL || p.Redis != RedisNotInStore {
			t.Errorf("%s: ProtectionOf() = %+v, want durable %v and a warning with %q", tt.name, p, tt.durable, tt.warning)
		}
	}
	if got := ProtectionOf(Store{}, []ServiceStatus{records()}); got != EngineCacheOnly {
		t.Errorf("without a store: %+v, want EngineCacheOnly", got)
	}
	if s := ProtectionOf(store, []ServiceStatus{records()}).Summary(); !strings.Contains(s, "durable, in the store s3://team-backups/cc: WAL archived up to 000000010000000000000007") {
		t.Errorf("Summary() = %q", s)
	}
}

func TestResetReportSaysWhatWasDeleted(t *testing.T) {
	for _, tt := range []struct {
		store     Store
		localOnly bool
		want      string
	}{
		{Store{}, false, "there was no store"},
		{validStore(), true, "keeps its copy, from which the next start restores"},
		{validStore(), false, "in this engine and in the store s3://team-backups/cc"},
	} {
		if got := ResetReport("shop", tt.store, tt.localOnly); !strings.Contains(got, tt.want) {
			t.Errorf("ResetReport(%q, local-only %v) = %q, want %q", tt.store.URL, tt.localOnly, got, tt.want)
		}
	}
}

func TestParseStatusReadsTheRestore(t *testing.T) {
	st := ParseStatus(Postgres, "running=true\nrecord_instance=abc\nrecord_started=2026-12-01T10:00:00Z\n"+
		"restored_at=2026-12-01T10:00:01Z\nrestored_instance=abc\nrestored_backup=20261201-090000F\n"+
		"restored_backup_at=2026-12-01T09:00:00Z\nrestored_target=latest\nrestored_until=2026-12-01 09:59:58+00\nrestored_took_ms=812\n"+
		"archive_wal=000000010000000000000002\narchive_at=2026-12-01T10:00:05Z\n", 0)
	want := &Restored{At: "2026-12-01T10:00:01Z", Backup: "20261201-090000F", BackupAt: "2026-12-01T09:00:00Z",
		Target: "latest", Until: "2026-12-01 09:59:58+00", TookMS: 812, ThisInstance: true}
	if diff := cmp.Diff(want, st.Restored); diff != "" {
		t.Errorf("Restored mismatch (-want +got):\n%s", diff)
	}
	if st.Records["archive_wal"] != "000000010000000000000002" {
		t.Errorf("Records = %v, want the archive's record for ProtectionOf", st.Records)
	}
	if d := st.Restored.Describe("shop", "s3://b/p"); !strings.Contains(d, "its last transaction is of 2026-12-01 09:59:58+00") {
		t.Errorf("Describe() = %q", d)
	}
}

func TestPostgresIsReadyWithAStoreOnlyOnceTheStoreHoldsABaseBackup(t *testing.T) {
	c := validConfig()
	want := []string{"sh", "-c", "pg_isready -q -h 127.0.0.1 -p 5432 -U " + DBUser + " -d " + DBName + " && test ! -e " + PasswordPending}
	if diff := cmp.Diff(want, c.HealthCheck(Postgres)); diff != "" {
		t.Errorf("HealthCheck(postgres) without a store: want pg_isready and the password given (-want +got):\n%s", diff)
	}
	c.Store = validStore()
	got := c.HealthCheck(Postgres)
	want = []string{"sh", "-c", "pg_isready -q -h 127.0.0.1 -p 5432 -U " + DBUser + " -d " + DBName + " && test -e " + StoreBasedMarker}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("HealthCheck(postgres) with a store mismatch (-want +got):\n%s", diff)
	}
}

func TestBackupForATimeIsTheNewestEndedBeforeIt(t *testing.T) {
	r, err := ParseStoreRange(infoJSON, archiveJSON)
	if err != nil {
		t.Fatal(err)
	}
	for at, want := range map[int64]string{
		1764600000: "20261201-100000F", // between the two backups
		1764669600: "20261202-100000F", // the second's end
		1764670000: "20261202-100000F", // after both
	} {
		if got := r.BackupFor(time.Unix(at, 0)); got != want {
			t.Errorf("BackupFor(%d) = %q, want %q", at, got, want)
		}
	}
}
