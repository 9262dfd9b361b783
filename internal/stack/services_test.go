package stack

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// withWorkers is the stack with two workers, as Config.Services lists it.
var withWorkers = []Service{Postgres, Redis, Backend, "worker", "beat", Frontend}

func TestLevels(t *testing.T) {
	for _, tc := range []struct {
		services []Service
		want     [][]Service
	}{
		{Services, [][]Service{{Postgres, Redis}, {Backend}, {Frontend}}},
		{withWorkers, [][]Service{{Postgres, Redis}, {Backend, "worker", "beat"}, {Frontend}}},
		{[]Service{Backend}, [][]Service{{Backend}}},
	} {
		if diff := cmp.Diff(tc.want, Levels(tc.services)); diff != "" {
			t.Errorf("Levels(%v) mismatch (-want +got):\n%s", tc.services, diff)
		}
	}
}

func TestLevelsRespectDependencies(t *testing.T) {
	seen := map[Service]bool{}
	for _, level := range Levels(withWorkers) {
		for _, s := range level {
			for _, dep := range Dependencies(s) {
				if !seen[dep] {
					t.Errorf("%s starts before its dependency %s", s, dep)
				}
			}
		}
		for _, s := range level {
			seen[s] = true
		}
	}
}

func TestDependents(t *testing.T) {
	tests := []struct {
		service Service
		want    []Service
	}{
		{Postgres, []Service{Backend, Frontend}},
		{Redis, []Service{Backend, Frontend}},
		{Backend, []Service{Frontend}},
		{Frontend, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.service), func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Dependents(tt.service)); diff != "" {
				t.Errorf("Dependents(%s) mismatch (-want +got):\n%s", tt.service, diff)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		valid   []Service
		want    Service
		wantErr string
	}{
		{name: "backend", valid: Services, want: Backend},
		{name: " redis ", valid: Services, want: Redis},
		{name: "db", valid: Services, wantErr: `unknown service "db": want one of postgres, redis, backend, frontend`},
		{name: "proxy", valid: Services, wantErr: `unknown service "proxy": want one of postgres, redis, backend, frontend`},
		{name: "proxy", valid: Logged, want: Proxy},
		{name: "", valid: Logged, wantErr: `unknown service "": want one of postgres, redis, backend, frontend, proxy`},
	}
	for _, tt := range tests {
		got, err := Parse(tt.name, tt.valid)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Parse(%q) error = %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestInternalPortsAreDistinct(t *testing.T) {
	seen := map[int]Service{}
	for _, s := range Services {
		p := InternalPort(s)
		if other, ok := seen[p]; ok {
			t.Errorf("%s and %s both listen on %d", s, other, p)
		}
		seen[p] = s
	}
}

func TestNeeds(t *testing.T) {
	tests := map[Service][]Service{
		Postgres: {Postgres},
		Redis:    {Redis},
		Backend:  {Postgres, Redis, Backend},
		Frontend: {Postgres, Redis, Backend, Frontend},
		Proxy:    withWorkers,
		"worker": {Postgres, Redis, "worker"},
	}
	for s, want := range tests {
		if diff := cmp.Diff(want, Needs(s, withWorkers)); diff != "" {
			t.Errorf("Needs(%s) mismatch (-want +got):\n%s", s, diff)
		}
	}
}

func TestOwnFailures(t *testing.T) {
	for _, tc := range []struct {
		failed, want []Service
	}{
		{nil, nil},
		{[]Service{Backend, Frontend}, []Service{Backend}},
		{[]Service{Postgres, Backend, Frontend, Proxy}, []Service{Postgres}},
		{[]Service{Postgres, Redis}, []Service{Postgres, Redis}},
		{[]Service{Frontend}, []Service{Frontend}},
		{[]Service{Frontend, Proxy}, []Service{Frontend}},
		{[]Service{Backend, "worker", "beat", Frontend}, []Service{Backend}},
		{[]Service{"worker"}, []Service{"worker"}},
	} {
		if diff := cmp.Diff(tc.want, OwnFailures(tc.failed)); diff != "" {
			t.Errorf("OwnFailures(%v) (-want +got):\n%s", tc.failed, diff)
		}
	}
}
