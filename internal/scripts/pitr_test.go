package scripts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// storeCmdEnv is what commandcenter-pg-store needs to run a command that
// does not reach the store.
func (s *sandbox) storeCmdEnv() []string {
	return append(s.pgEnv(s.storeEnv(credentials)...), "COMMANDCENTER_STORE=s3://team/cc",
		"COMMANDCENTER_STORE_LEASE_SECONDS=30", "COMMANDCENTER_GENERATED_DIR="+s.dir, "PGBACKREST_STANZA=shop",
		"COMMANDCENTER_STORE_LEASE_KEY=cc/shop/commandcenter/lease", "COMMANDCENTER_STORE_BUCKET_URL=https://s3.invalid/team", "COMMANDCENTER_STORE_REGION=us-east-1")
}

func TestRestoreToRefusesACopyWithWALTheStoreNeverTook(t *testing.T) {
	s := newSandbox(t)
	env := s.storeCmdEnv()
	status := filepath.Join(s.dir, "pgdata", "pg_wal", "archive_status")
	if err := os.MkdirAll(status, 0o700); err != nil {
		t.Fatal(err)
	}
	s.write(filepath.Join(s.dir, "pgdata", "PG_VERSION"), "16\n", 0o600)
	s.write(filepath.Join(status, "000000010000000000000007.ready"), "", 0o600)
	s.write(filepath.Join(status, "000000010000000000000006.done"), "", 0o600)
	_, stderr, err := s.run(env, "pg-store", "restore-to", "2026-12-01 10:00:00.000000+00", "20261201-100000F")
	if exitCode(err) != 79 || !strings.Contains(stderr, "segments 000000010000000000000007.") ||
		strings.Contains(stderr, "000000010000000000000006") || !strings.Contains(stderr, "Bring the store back") {
		t.Errorf("restore-to with a .ready segment = %v, %q; want exit 79 naming that segment only and the fix", err, stderr)
	}
	if !s.exists("pgdata/PG_VERSION") || s.exists("logs/postgres.restore-target") {
		t.Error("restore-to that was refused dropped the copy or noted a target")
	}
	if err := os.Remove(filepath.Join(status, "000000010000000000000007.ready")); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := s.run(env, "pg-store", "restore-to", "2026-12-01 10:00:00.000000+00", "20261201-100000F"); err != nil {
		t.Fatalf("restore-to once every segment is archived = %v, %q", err, stderr)
	}
	if s.exists("pgdata/PG_VERSION") || s.read("logs/postgres.restore-target") != "2026-12-01 10:00:00.000000+00\n" {
		t.Error("restore-to of an archived copy: want the copy dropped and the target noted")
	}
}

// unreachedLog is PostgreSQL's log of a restore to a time after the
// archive's last transaction, after an earlier restore that went well.
const unreachedLog = `[commandcenter] project "shop" restored from the store s3://team/cc in 900 ms: base backup A
LOG:  last completed transaction was at log time 2026-12-01 09:00:00.5+00
[commandcenter] project "shop" restored from the store s3://team/cc in 800 ms: base backup B
LOG:  redo done at 0/3016048
LOG:  last completed transaction was at log time 2026-12-06 02:20:54.306134+00
FATAL:  recovery ended before configured recovery target was reached
`

func TestStartAfterAnUnreachedTargetStopsAndNamesTheFix(t *testing.T) {
	s := newSandbox(t)
	env := s.storeCmdEnv()
	s.write(filepath.Join(s.dir, "pgdata", "PG_VERSION"), "16\n", 0o600)
	s.write(filepath.Join(s.logs, "postgres.recovering"), "2026-12-06 02:28:00.000000+00\n", 0o600)
	s.write(filepath.Join(s.logs, "postgres.log"), unreachedLog, 0o600)
	s.fake("curl")
	for range 2 {
		_, stderr, err := s.run(env, "pg-store", "prepare")
		for _, want := range []string{"to 2026-12-06 02:28:00.000000+00 did not reach that time", "ended at 2026-12-06 02:20:54.306134+00",
			"restore --from-store --time 2026-12-06T02:20:54.306134+00:00", "without running PostgreSQL"} {
			if exitCode(err) != 79 || !strings.Contains(stderr, want) {
				t.Errorf("prepare after an unreached target = %v, %q; want exit 79 with %q", err, stderr, want)
			}
		}
	}
	if s.exists("curl.argv") || !s.exists("logs/postgres.recovering") || !s.exists("pgdata/PG_VERSION") {
		t.Error("prepare after an unreached target reached the store, or dropped the marker or the copy")
	}
	// A recovery that was only interrupted (no FATAL after the restore) goes on.
	s.write(filepath.Join(s.logs, "postgres.log"), unreachedLog+"[commandcenter] project \"shop\" restored from the store again\n", 0o600)
	_, stderr, _ := s.run(env, "pg-store", "prepare")
	if strings.Contains(stderr, "did not reach") || !s.exists("curl.argv") {
		t.Errorf("prepare of an interrupted recovery = %q; want it to go on to the store's lease", stderr)
	}
}

func TestLastCommitReadsSegmentsUntilOneEndsATransaction(t *testing.T) {
	s := newSandbox(t)
	env := s.storeCmdEnv()
	s.write(filepath.Join(s.bin, "pgbackrest"), `#!/bin/sh
for a; do key=$a; done
case $key in *broken*) echo "ERROR: [045]: unable to read" >&2; exit 45 ;; esac
echo "WAL of ${key##*/}"
`, 0o755)
	s.write(filepath.Join(s.bin, "pg_waldump"), `#!/bin/sh
echo "$TZ $1" >>"$FAKE_OUT/waldump"
case $1 in
*03) echo "rmgr: XLOG len (rec/tot): 114/114, tx: 0, lsn: 0/03000028, desc: CHECKPOINT_ONLINE" ;;
*02) printf '%s\n' "rmgr: Transaction len (rec/tot): 34/34, tx: 724, lsn: 0/02015E58, desc: COMMIT 2026-12-06 02:20:54.306134 UTC; inval msgs: catcache 80" \
	"rmgr: Transaction len (rec/tot): 34/34, tx: 725, lsn: 0/02016048, desc: ABORT 2026-12-06 02:20:56.631367 UTC" ;;
*) echo "pg_waldump: error: could not find a valid record" >&2 ;;
esac
exit 1
`, 0o755)
	cmd := s.command(env, "pg-store", "last-commit")
	cmd.Stdin = strings.NewReader("15-1/0000000100000000/000000010000000000000003-aa\n15-1/0000000100000000/000000010000000000000002-aa\n15-1/x/000000010000000000000001-aa\n")
	out, err := cmd.Output()
	if err != nil || string(out) != "15-1/0000000100000000/000000010000000000000002-aa 2026-12-06 02:20:56.631367\n" {
		t.Errorf("last-commit = %q, %v; want the second segment's last transaction end", out, err)
	}
	if got := s.read("waldump"); strings.Count(got, "UTC ") != 2 || strings.Contains(got, "0001\n") {
		t.Errorf("pg_waldump ran on %q; want the two newest segments, in UTC", got)
	}
	for _, input := range []string{"15-1/x/000000010000000000000001-broken\n", "15-1/x/000000010000000000000001-aa\n"} {
		cmd = s.command(env, "pg-store", "last-commit")
		cmd.Stdin = strings.NewReader(input)
		_, err := cmd.Output()
		if exitCode(err) != 2 {
			t.Errorf("last-commit of %q that cannot be read = %v; want exit 2, not an older transaction", input, err)
		}
	}
}
