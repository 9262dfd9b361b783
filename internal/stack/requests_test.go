package stack

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestStopLevelsStopDependentsFirst(t *testing.T) {
	want := [][]Service{{Proxy}, {Frontend}, {Backend, "worker", "beat"}, {Postgres, Redis}}
	if diff := cmp.Diff(want, StopLevels(withWorkers)); diff != "" {
		t.Errorf("StopLevels() mismatch (-want +got):\n%s", diff)
	}
}

func TestStopSignals(t *testing.T) {
	dev, static := validConfig(), validConfig()
	static.FrontendMode = FrontendStatic
	for _, tc := range []struct {
		c    Config
		s    Service
		want string
	}{
		{dev, Postgres, "INT"}, {dev, Redis, "TERM"}, {dev, Backend, "TERM"},
		{dev, Frontend, "TERM"}, {static, Frontend, "QUIT"}, {dev, Proxy, "QUIT"},
	} {
		if got := tc.c.StopSignal(tc.s); got != tc.want {
			t.Errorf("StopSignal(%s, mode %s) = %s, want %s", tc.s, tc.c.FrontendMode, got, tc.want)
		}
	}
}

func TestParseRequestResult(t *testing.T) {
	got := ParseRequestResult(Backend, "result=restarted\ninstance=5f0c9e2a7d1b3c44\nstarted=2026-12-01T10:00:00Z\ntook_ms=2340\n")
	want := RequestResult{Service: Backend, Result: ResultRestarted, Instance: "5f0c9e2a7d1b3c44",
		Started: "2026-12-01T10:00:00Z", Took: 2340 * time.Millisecond}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseRequestResult mismatch (-want +got):\n%s", diff)
	}
	if line := got.Describe(); line != "backend: restarted in place, healthy again after 2.34s (instance 5f0c9e2a7d1b3c44, running since 2026-12-01T10:00:00Z)" {
		t.Errorf("Describe() = %q", line)
	}
}

func TestStopReportSaysWhenNothingWasStopped(t *testing.T) {
	idle := []RequestResult{
		{Service: Proxy, Result: ResultNotRunning, Detail: "not running (never started in this project)"},
		{Service: Postgres, Result: ResultNotRunning},
	}
	want := "nothing was running in project \"shop\": nothing was stopped\n" +
		"proxy: was not running (never started in this project)\npostgres: was not running\n"
	if got := StopReport("shop", idle); got != want {
		t.Errorf("StopReport(nothing running) = %q, want %q", got, want)
	}
	some := append(idle, RequestResult{Service: Redis, Result: ResultStopped, Instance: "ab", Started: "T", Took: time.Second})
	got := StopReport("shop", some)
	if !strings.HasPrefix(got, "project \"shop\": stopped 1 of 3 services\n") || !strings.Contains(got, "redis: stopped in 1s (instance ab, running since T)\n") {
		t.Errorf("StopReport(one stopped) = %q", got)
	}
}
