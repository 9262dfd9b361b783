package scripts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// storeInfo is `pgbackrest info --output=json` of a stanza with a backup,
// whose newest archived WAL segment is max.
func storeInfo(max string) string {
	return `[{"name":"shop","status":{"code":0,"message":"ok"},"backup":[{"label":"20261201-090000F"}],` +
		`"archive":[{"id":"15-1","min":"000000010000000000000001","max":"` + max + `"}],` +
		`"db":[{"id":1,"system-id":7301234567890123456,"version":"15"}]}]`
}

// A copy that another copy's lease names last may start only when it holds
// everything the store does: the same database, at or past the store's
// newest WAL and timeline. Nothing is changed when it is refused.
func TestClaimComparesTheDatabasesIdentityAndPosition(t *testing.T) {
	const sameID, storeMax = "7301234567890123456", "000000010000000000000007"
	tests := []struct {
		name      string
		id, redo  string
		completed string // a segment noted in archive_status
		history   bool   // the store holds timeline 2's history
		refusal   []string
	}{
		{"ahead on the same timeline", sameID, "000000010000000000000009", "", false, nil},
		{"level with the store", sameID, storeMax, "", false, nil},
		{"ahead by a completed segment", sameID, "000000010000000000000005", "000000010000000000000008.done", false, nil},
		{"behind", sameID, "000000010000000000000005", "", false,
			[]string{"older than the store's", "ends at WAL 000000010000000000000005", "up to " + storeMax, "reset --local-only --yes"}},
		{"behind a newer timeline", sameID, "000000010000000000000009", "", true,
			[]string{"older than the store's", "up to 000000020000000000000000"}},
		{"another database", "6999999999999999999", "000000010000000000000009", "", false,
			[]string{"another database (system identifier 6999999999999999999)", "store's (system identifier " + sameID, "reset --local-only --yes", "backup export"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, env := leaseSandbox(t, 15)
			s.write(filepath.Join(s.bin, "pg_controldata"), "#!/bin/sh\ncat \"$FAKE_OUT/control\"\n", 0o755)
			s.write(filepath.Join(s.dir, "control"), "Database system identifier:           "+tt.id+
				"\nLatest checkpoint's TimeLineID:       1\nLatest checkpoint's REDO WAL file:    "+tt.redo+"\n", 0o644)
			s.write(filepath.Join(s.dir, "pgdata", "PG_VERSION"), "15\n", 0o644)
			status := filepath.Join(s.dir, "pgdata", "pg_wal", "archive_status")
			if err := os.MkdirAll(status, 0o700); err != nil {
				t.Fatal(err)
			}
			if tt.completed != "" {
				s.write(filepath.Join(status, tt.completed), "", 0o600)
			}
			s.write(filepath.Join(s.dir, "info.json"), storeInfo(storeMax), 0o644)
			s.write(filepath.Join(s.dir, "archive.info"), "[db]\ndb-id=1\ndb-system-id="+sameID+"\ndb-version=\"15\"\n", 0o644)
			if tt.history {
				s.write(filepath.Join(s.dir, "repo-ls.json"), `{"00000002.history":{"type":"file"},"0000000100000000":{"type":"path"}}`, 0o644)
			}
			if err := os.MkdirAll(filepath.Join(s.dir, "s3"), 0o700); err != nil {
				t.Fatal(err)
			}
			rival := "copy=rival\nstate=released\nhost=rival-engine\nat=2026-12-01T09:00:00Z\nttl=15\n"
			s.write(filepath.Join(s.dir, "s3", "lease"), rival, 0o644)
			s.write(filepath.Join(s.dir, "s3", "lease.etag"), "\"rival\"\n", 0o644)

			out, err := prepare(s, env)
			lease := s.read("s3/lease")
			if tt.refusal == nil {
				if err != nil || !strings.Contains(lease, "state=held") || strings.Contains(lease, "copy=rival") {
					t.Errorf("prepare: %v, lease %q; want this copy to take the lease\n%s", err, lease, out)
				}
				return
			}
			if exitCode(err) != 79 || lease != rival {
				t.Errorf("prepare: exit %d, lease %q; want 79 and the lease unchanged\n%s", exitCode(err), lease, out)
			}
			for _, want := range tt.refusal {
				if !strings.Contains(out, want) {
					t.Errorf("refusal = %q, want it to say %q", out, want)
				}
			}
		})
	}
}
