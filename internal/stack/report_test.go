package stack

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHealthTable(t *testing.T) {
	got := HealthTable([]ServiceStatus{
		{Service: Postgres, Healthy: true, LatencyMS: 84, Message: "SELECT 1 answered"},
		{Service: Redis, LatencyMS: 1203, Message: "Could not connect to Redis"},
	}, EngineCacheOnly)
	want := `SERVICE   STATUS     LATENCY  MESSAGE
postgres  healthy    84ms     SELECT 1 answered
redis     unhealthy  1203ms   Could not connect to Redis

protection: no durable store: the project's data lives only in this Dagger engine's cache volumes, which an engine crash, a Dagger upgrade (the CLI replaces the engine container and its state volume), a cache prune and the engine's garbage collection delete without warning. Keep backups: dagger call backup export --path db.dump
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("HealthTable() mismatch (-want +got):\n%s", diff)
	}
}

func TestLastLines(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc"},
		{"a\nb\n", 5, "a\nb"},
		{"", 3, ""},
		{"only\n\n\n", 1, "only"},
	}
	for _, tt := range tests {
		if got := LastLines(tt.in, tt.n); got != tt.want {
			t.Errorf("LastLines(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestSummary(t *testing.T) {
	if got := Summary("\n  \nfirst line\nsecond"); got != "first line" {
		t.Errorf("Summary() = %q, want %q", got, "first line")
	}
	long := strings.Repeat("x", 300)
	if got := Summary(long); len(got) != 203 || !strings.HasSuffix(got, "...") {
		t.Errorf("Summary() of 300 bytes = %d bytes, want 200 and an ellipsis", len(got))
	}
}
