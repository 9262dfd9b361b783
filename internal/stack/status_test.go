package stack

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseStatus(t *testing.T) {
	record := "record_started=2026-12-01T09:00:00Z\nrecord_address=10.87.0.9\nrecord_instance=5f0c9e2a7d1b3c44\n" +
		"record_state=running\nrecord_since=2026-12-01T09:30:00Z\nrecord_restarts=2\n"
	for _, tc := range []struct {
		name string
		out  string
		want ServiceStatus
	}{
		{"never started", "running=false\n", ServiceStatus{Service: Redis, State: StateNeverStarted,
			Message: "not running (never started in this project)", LatencyMS: 40}},
		{"stopped after a crash", "running=false\n" + record + "exit_status=1\nexit_at=2026-12-01T09:40:00Z\n",
			ServiceStatus{Service: Redis, State: StateStopped, Started: "2026-12-01T09:00:00Z", Since: "2026-12-01T09:30:00Z",
				Restarts: 2, LatencyMS: 40, Message: "not running (last started 2026-12-01T09:00:00Z)",
				LastError: "exited with status 1 at 2026-12-01T09:40:00Z"}},
		{"healthy", "running=true\n" + record + "healthy=true\nmessage=PING answered PONG\n",
			ServiceStatus{Service: Redis, State: StateRunning, Healthy: true, Started: "2026-12-01T09:00:00Z",
				Since: "2026-12-01T09:30:00Z", Instance: "5f0c9e2a7d1b3c44", Restarts: 2, LatencyMS: 40, Message: "PING answered PONG"}},
		{"running, unhealthy", "running=true\n" + record + "healthy=false\nmessage=NOAUTH Authentication required.\n",
			ServiceStatus{Service: Redis, State: StateRunning, Started: "2026-12-01T09:00:00Z",
				Since: "2026-12-01T09:30:00Z", Instance: "5f0c9e2a7d1b3c44", Restarts: 2, LatencyMS: 40,
				Message: "NOAUTH Authentication required.", LastError: "NOAUTH Authentication required."}},
		{"a new database", "running=true\n" + record + "initdb_at=2026-12-01T09:00:01Z\ninitdb_instance=5f0c9e2a7d1b3c44\nhealthy=true\nmessage=PING answered PONG\n",
			ServiceStatus{Service: Redis, State: StateRunning, Healthy: true, Started: "2026-12-01T09:00:00Z",
				Since: "2026-12-01T09:30:00Z", Instance: "5f0c9e2a7d1b3c44", Restarts: 2, LatencyMS: 40, Message: "PING answered PONG",
				Initialized: "2026-12-01T09:00:01Z", NewDatabase: true}},
		{"an older database", "running=true\n" + record + "initdb_at=2026-11-01T09:00:01Z\ninitdb_instance=0000000000000000\nhealthy=true\nmessage=PING answered PONG\n",
			ServiceStatus{Service: Redis, State: StateRunning, Healthy: true, Started: "2026-12-01T09:00:00Z",
				Since: "2026-12-01T09:30:00Z", Instance: "5f0c9e2a7d1b3c44", Restarts: 2, LatencyMS: 40, Message: "PING answered PONG",
				Initialized: "2026-11-01T09:00:01Z"}},
		{"restarting", "running=true\n" + record + "record_state=restarting\nhealthy=false\nmessage=Connection refused\n",
			ServiceStatus{Service: Redis, State: StateRestarting, Started: "2026-12-01T09:00:00Z",
				Since: "2026-12-01T09:30:00Z", Instance: "5f0c9e2a7d1b3c44", Restarts: 2, LatencyMS: 40,
				Message: "Connection refused", LastError: "Connection refused"}},
	} {
		got := ParseStatus(Redis, tc.out, 40*time.Millisecond)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: ParseStatus mismatch (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestReportJSONRoundTrips(t *testing.T) {
	r := Report{Project: "shop", CheckedAt: "2026-12-01T10:00:00Z", Protection: EngineCacheOnly, Services: []ServiceStatus{
		{Service: Postgres, State: StateRunning, Healthy: true, Since: "a", Started: "a", Instance: "i", LatencyMS: 5, Message: "SELECT 1 answered"},
		{Service: Proxy, State: StateNeverStarted, Message: "not running (never started in this project)"},
	}}
	var back Report
	if err := json.Unmarshal([]byte(r.JSON()), &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, back); diff != "" {
		t.Errorf("JSON round trip mismatch (-want +got):\n%s", diff)
	}
	var raw map[string][]map[string]any
	_ = json.Unmarshal([]byte(r.JSON()), &raw)
	if _, ok := raw["services"][1]["last_error"]; ok {
		t.Errorf("JSON = %s: want no last_error key when there is none", r.JSON())
	}
}
