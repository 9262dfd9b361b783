package stack

import (
	"strings"
	"testing"
	"time"
)

func TestPermanent(t *testing.T) {
	for code, want := range map[int]bool{
		ExitAlreadyRunning: true, ExitMajorMismatch: true, ExitConfig: true, 126: true, 127: true,
		0: false, 1: false, 2: false, 137: false, 143: false,
	} {
		if got := Permanent(code); got != want {
			t.Errorf("Permanent(%d) = %v, want %v", code, got, want)
		}
	}
}

func TestStartPeriod(t *testing.T) {
	// Eight fresh projects at once on 2 cores took over 60 s to initdb.
	for _, s := range Services {
		if p := StartPeriod(s); p < 2*time.Minute || p > 5*time.Minute {
			t.Errorf("StartPeriod(%s) = %s, want 2-5 minutes: room for a loaded engine, yet a bounded hang", s, p)
		}
	}
	if StartPeriod(Postgres) <= StartPeriod(Backend) {
		t.Errorf("StartPeriod(postgres) = %s, want more than the backend's %s: initdb is the slowest first start", StartPeriod(Postgres), StartPeriod(Backend))
	}
}

func TestStartPeriodWithAStoreLetsARestoreRun(t *testing.T) {
	c := Config{Project: "p", Store: validStore()}
	if got := c.StartPeriod(Postgres); got < 30*time.Minute {
		t.Errorf("StartPeriod(postgres) with a store = %s, want room for a large database's restore (30 minutes or more)", got)
	}
	if got, want := c.StartPeriod(Redis), StartPeriod(Redis); got != want {
		t.Errorf("StartPeriod(redis) with a store = %s, want %s: only postgres restores", got, want)
	}
	if got, want := (Config{Project: "p"}).StartPeriod(Postgres), StartPeriod(Postgres); got != want {
		t.Errorf("StartPeriod(postgres) without a store = %s, want %s", got, want)
	}
}

func TestConfirmReset(t *testing.T) {
	tests := []struct {
		yes     bool
		confirm string
		want    string // "" for no error
	}{
		{true, "", ""},
		{false, "shop", ""},
		{true, "other", ""},
		{false, "", "confirm with --yes or --confirm shop; nothing was deleted"},
		{false, "shp", `--confirm "shp" is not the project's name "shop": nothing was deleted`},
	}
	for _, tt := range tests {
		err := ConfirmReset("shop", tt.yes, tt.confirm)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("ConfirmReset(yes=%v, %q) = %v, want nil", tt.yes, tt.confirm, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("ConfirmReset(yes=%v, %q) = %v, want an error containing %q", tt.yes, tt.confirm, err, tt.want)
		}
	}
}

func TestStoppedNamesWhatRuns(t *testing.T) {
	logged := []Service{Postgres, Redis, Backend}
	tests := []struct {
		name        string
		states      []string
		wantCluster string
		wantErr     []string
	}{
		{"all stopped, a cluster of 16 recorded", []string{"16", "", ""}, "16", nil},
		{"all stopped, never started", []string{"", "", ""}, "", nil},
		{"two run", []string{"running since 2026-12-01T10:00:00Z", "", "running since 2026-12-01T10:00:05Z"}, "",
			[]string{`project "shop" is running: postgres (running since 2026-12-01T10:00:00Z), backend (running since 2026-12-01T10:00:05Z)`,
				"dagger call --project shop stop", "nothing was deleted"}},
	}
	for _, tt := range tests {
		cluster, err := Stopped("shop", logged, tt.states)
		if tt.wantErr == nil {
			if err != nil || cluster != tt.wantCluster {
				t.Errorf("%s: got %q, %v; want %q", tt.name, cluster, err, tt.wantCluster)
			}
			continue
		}
		for _, want := range tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: got %v, want %q in the error", tt.name, err, want)
			}
		}
	}
}
