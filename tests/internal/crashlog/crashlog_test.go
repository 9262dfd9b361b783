package crashlog

import (
	"strings"
	"testing"
)

const (
	start     = "[commandcenter] postgres starting as uid=999(postgres)\n"
	ready     = "LOG:  database system is ready to accept connections\n"
	recovered = "LOG:  database system was not properly shut down; automatic recovery in progress\nLOG:  redo done at 0/1B3F0A8\n"
	graceful  = "LOG:  received fast shutdown request\nLOG:  database system is shut down\n"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name, logs, wantErr string
	}{
		{"a kill: the new instance recovered", start + "initdb's server\n" + graceful + ready + start + recovered + ready, ""},
		{"a kill that did nothing: no new start", start + ready, "the killed instance"},
		{"a graceful stop, not a kill", start + ready + graceful + start + recovered + ready, `got "shutdown request"`},
		{"a start without recovery", start + ready + start + ready, `wanted "database system was not properly shut down"`},
		{"no start at all", ready, "after the kill"},
		{"a killed instance that never served", start + start + recovered + ready, "wanted \"database system is ready"},
	}
	for _, tt := range tests {
		err := Postgres.Check("postgres", tt.logs)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: got %v, want an error with %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestRedisCheck(t *testing.T) {
	start := "[commandcenter] redis starting as uid=999(redis)\n"
	ready := "1:M * Ready to accept connections tcp\n"
	loaded := "1:M * DB loaded from append only file: 0.001 seconds\n"
	if err := Redis.Check("redis", start+ready+start+loaded+ready); err != nil {
		t.Errorf("a killed redis that loaded its AOF: %v", err)
	}
	sigterm := "1:signal-handler Received SIGTERM scheduling shutdown...\n1:M # Redis is now ready to exit, bye bye...\n"
	if err := Redis.Check("redis", start+ready+sigterm+start+loaded+ready); err == nil {
		t.Error("a redis stopped with SIGTERM passed as killed")
	}
}
