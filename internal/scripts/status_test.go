package scripts

import (
	"os"
	"path/filepath"
	"testing"
)

// With postgres's data volume, status reports the .ready segments that the
// store has not acknowledged in pgBackRest's spool, and the data
// directory's state: a segment acknowledged but not yet marked done by
// PostgreSQL is in the store, not only in the engine.
func TestStatusReportsTheWALOnlyInTheEngine(t *testing.T) {
	s := newSandbox(t)
	pgdata := filepath.Join(s.dir, "pgdata")
	ready := filepath.Join(pgdata, "pg_wal", "archive_status")
	spool := filepath.Join(pgdata, "pgbackrest-spool", "archive", "shop", "out")
	for _, d := range []string{ready, spool} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.write(filepath.Join(pgdata, "PG_VERSION"), "15\n", 0o644)
	for _, f := range []string{"000000010000000000000007.done", "000000010000000000000008.ready", "000000010000000000000009.ready", "00000001000000000000000A.ready"} {
		s.write(filepath.Join(ready, f), "", 0o644)
	}
	s.write(filepath.Join(spool, "000000010000000000000008.ok"), "", 0o644)
	s.write(filepath.Join(s.bin, "pg_controldata"), "#!/bin/sh\necho 'pg_control version number:            1300'\necho 'Database cluster state:               in production'\n", 0o755)
	env := []string{"PGDATA=" + pgdata, "COMMANDCENTER_WAL_SPOOL=" + spool}
	stdout, stderr, err := s.run(env, "status", "postgres", "true")
	got := fields(stdout)
	if err != nil || got["wal_unarchived"] != "000000010000000000000009 00000001000000000000000A" || got["wal_cluster_state"] != "in production" {
		t.Errorf("status with the data volume = %v, %q (%s); want 9 and A unarchived, in production", err, stdout, stderr)
	}
	stdout, _, err = s.run(nil, "status", "postgres", "true")
	if _, read := fields(stdout)["wal_unarchived"]; err != nil || read {
		t.Errorf("status without the data volume = %v, %q; want no wal_ lines", err, stdout)
	}
}
