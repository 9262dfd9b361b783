package stack

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOnlyInEngine(t *testing.T) {
	archived := map[string]string{"archive_wal": "000000010000000000000007", "archive_at": "2026-12-01T10:00:00Z"}
	with := func(extra ...string) map[string]string {
		f := map[string]string{}
		for k, v := range archived {
			f[k] = v
		}
		for i := 0; i+1 < len(extra); i += 2 {
			f[extra[i]] = extra[i+1]
		}
		return f
	}
	type result struct {
		What     string
		Stranded bool
	}
	tests := []struct {
		name    string
		f       map[string]string
		running bool
		want    result
	}{
		{"running, nothing waiting", with("wal_unarchived", "", "wal_cluster_state", "in production"), true,
			result{"the writes since the last archived segment (000000010000000000000007, at 2026-12-01T10:00:00Z), until theirs is archived (within about 60 s)", false}},
		{"running, two segments waiting", with("wal_unarchived", "000000010000000000000008 000000010000000000000009", "wal_cluster_state", "in production"), true,
			result{"2 WAL segment(s) not yet in the store (000000010000000000000008 to 000000010000000000000009); and the writes since the last archived segment (000000010000000000000007, at 2026-12-01T10:00:00Z), until theirs is archived (within about 60 s)", false}},
		{"killed", with("wal_unarchived", "", "wal_cluster_state", "in production"), false,
			result{"what the killed server wrote after its last archived segment (000000010000000000000007, at 2026-12-01T10:00:00Z)", true}},
		{"killed before it archived anything", map[string]string{"wal_cluster_state": "in production"}, false,
			result{"what the killed server wrote after its last archived segment (none yet)", true}},
		{"stopped cleanly with a segment the store did not take", with("wal_unarchived", "000000010000000000000008", "wal_cluster_state", "shut down"), false,
			result{"1 WAL segment(s) not yet in the store (000000010000000000000008)", true}},
		{"stopped cleanly, everything archived", with("wal_unarchived", "", "wal_cluster_state", "shut down"), false, result{}},
		{"not read (no store, or the data volume not mounted)", nil, false, result{}},
	}
	for _, tt := range tests {
		var got result
		got.What, got.Stranded = OnlyInEngine(tt.f, tt.running)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: OnlyInEngine() mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestStrandedIsWhatStatusPushes(t *testing.T) {
	killed := map[string]string{"wal_cluster_state": "in production", "lease_state": "held"}
	pg := func(state string, f map[string]string) []ServiceStatus {
		return []ServiceStatus{{Service: Redis, State: StateStopped}, {Service: Postgres, State: state, Records: f}}
	}
	tests := []struct {
		name     string
		store    Store
		statuses []ServiceStatus
		want     bool
	}{
		{"a killed server's WAL", validStore(), pg(StateStopped, killed), true},
		{"a clean stop with a segment the store did not take", validStore(),
			pg(StateStopped, map[string]string{"wal_cluster_state": "shut down", "wal_unarchived": "000000010000000000000008"}), true},
		{"the server runs: its archiver pushes", validStore(), pg(StateRunning, killed), false},
		{"a clean stop, everything archived", validStore(), pg(StateStopped, map[string]string{"wal_cluster_state": "shut down"}), false},
		{"this engine lost the lease: its WAL is not the store's", validStore(),
			pg(StateStopped, map[string]string{"wal_cluster_state": "in production", "lease_state": "lost"}), false},
		{"no store", Store{}, pg(StateStopped, killed), false},
		{"postgres's records not read", validStore(), pg("unknown", nil), false},
	}
	for _, tt := range tests {
		if got := Stranded(tt.store, tt.statuses); got != tt.want {
			t.Errorf("%s: Stranded() = %v, want %v", tt.name, got, tt.want)
		}
	}
	if !RecordsRead(pg(StateStopped, killed)) || RecordsRead(pg("unknown", nil)) {
		t.Error("RecordsRead: want true when postgres's status read its records, false when it could not")
	}
}
