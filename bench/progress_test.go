package main

import (
	"reflect"
	"strings"
	"testing"
)

// A trimmed --progress=plain transcript: span 73 ran pip from cache, span 115
// ran npm ci for real, span 140 is the naive pip install that failed, span
// 150 the naive npm ci that ran.
const transcript = "\x1b[95m73  : \x1b[0m┆ \x1b[34mwithExec\x1b[0m sh -c 'case ${PIP_INDEX_URL:-} in\\nhttp://*) ;;\\nesac\\nexec pip install --cache-dir /var/cache/pip -r /app/requirements.txt'\n" +
	"73  : ┆ Container.withExec\x1b[34m CACHED\x1b[0m [0.0s]\n" +
	"115 : ┆ withExec /usr/local/bin/commandcenter-frontend-install /var/cache/npm\n" +
	"115 : ┆ [1.1s] | up to date in 40ms\n" +
	"115 : ┆ Container.withExec DONE [1.6s]\n" +
	"140 : ┆ withExec pip install -r requirements.txt\n" +
	"140 : ┆ Container.withExec ERROR [0.4s]\n" +
	"141 : ┆ withExec pip install -r requirements.txt\n" +
	"141 : ┆ Container.withExec DONE [2.0s]\n" +
	"150 : ┆ withExec npm ci --no-audit --no-fund\n" +
	"150 : ┆ [9.5s] | added 480 packages in 9s\n" +
	"150 : ┆ Container.withExec DONE [9.8s]\n"

func TestCountInstalls(t *testing.T) {
	got := countInstalls(transcript)
	want := map[string]int{"pip": 0, "npm": 1, "naive-pip": 1, "naive-npm": 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("countInstalls() = %v, want %v", got, want)
	}
}

func TestStat(t *testing.T) {
	got := stat([]float64{3, 1, 2})
	if got != (Stat{N: 3, Min: 1, Median: 2, Max: 3}) {
		t.Errorf("stat() = %+v", got)
	}
	if got := stat([]float64{4, 1, 2, 3}); got.Median != 2.5 {
		t.Errorf("median of 4 values = %v, want 2.5", got.Median)
	}
}

func TestTargets(t *testing.T) {
	r := Report{Samples: map[string][]float64{
		"solo/postgres": {2}, "solo/redis": {1}, "solo/backend": {3}, "solo/frontend": {2},
		"warm/start": {7.5}, "lag/postgres": {0.3}, "lag/redis": {0.2}, "lag/backend": {0.6}, "lag/frontend": {0.1},
		"restart/postgres": {3}, "restart/redis": {1.6}, "restart/backend": {4.6}, "restart/frontend": {3.2},
		"restart-elsewhere/postgres": {3.1}, "restart-elsewhere/redis": {1.4}, "restart-elsewhere/backend": {4.4}, "restart-elsewhere/frontend": {5},
		"stop/elsewhere": {4}, "stop/session": {3},
		"cold/start": {9}, "cold/initdb": {1.2}, "store/rpo-kill-lost-old-rows": {0, 0, 0},
		"store/pgbench-archiving-tps": {930, 950, 960}, "store/pgbench-plain-tps": {1000, 1000, 990},
	}, Installs: map[string]int{"change/pip": 0, "change/npm": 0, "cold/pip": 0, "cold/npm": 1}}
	r.evaluate()
	met := map[string]bool{}
	for _, target := range r.Targets {
		met[target.Name] = target.Met
	}
	want := map[string]bool{
		"warm stack Start (median) <= 1.3 x longest chain of solo starts":                                      true, // 7.5 <= 1.3 x (2+3+2)
		"install steps re-run after a source-only change":                                                      true,
		"readiness lag of postgres (median) <= 0.5 s":                                                          true,
		"readiness lag of redis (median) <= 0.5 s":                                                             true,
		"readiness lag of backend (median) <= 0.5 s":                                                           false,
		"readiness lag of frontend (median) <= 0.5 s":                                                          true,
		"Restart(postgres) in place (median) <= 1.5 x solo start of postgres+backend+frontend":                 true, // 3 <= 10.5
		"Restart(postgres) from another session (median) <= 1.5 x Restart(postgres) in the session":            true,
		"Restart(redis) in place (median) <= 1.5 x solo start of redis+backend+frontend":                       true,
		"Restart(redis) from another session (median) <= 1.5 x Restart(redis) in the session":                  true,
		"Restart(backend) in place (median) <= 1.5 x solo start of backend+frontend":                           true, // 4.6 <= 7.5
		"Restart(backend) from another session (median) <= 1.5 x Restart(backend) in the session":              true,
		"Restart(frontend) in place (median) <= 1.5 x solo start of frontend":                                  false, // 3.2 > 3
		"Restart(frontend) from another session (median) <= 1.5 x Restart(frontend) in the session":            false, // 5 > 4.8
		"Stop from another session (median) <= 1.5 x the engine's stop in the session":                         true,  // 4 <= 4.5
		"install steps run for a new project":                                                                  false, // npm ran
		"new project's Start (median) <= warm Start + its initdb":                                              false, // 9 > 7.5 + 1.2
		"rows acknowledged more than 60 s (archive_timeout) before a crash and lost (max)":                     true,
		"TPS lost to WAL archiving: 1 - median with the store / median without (pgbench, one session) <= 0.10": true, // 1 - 950/1000
	}
	if !reflect.DeepEqual(met, want) {
		t.Errorf("targets met = %v\nwant %v", met, want)
	}
	if r.AllMet {
		t.Error("AllMet = true with missed targets")
	}
}

// A measurement the run did not take fails the targets that read it, and
// says so, instead of reading as 0 (which 0 <= 0 would meet).
func TestMissingMeasurementFailsItsTarget(t *testing.T) {
	r := Report{StoreOnly: true, Samples: map[string][]float64{
		"store/pgbench-archiving-tps": {950}, "store/pgbench-plain-tps": {1000},
	}}
	r.evaluate()
	if len(r.Targets) != 2 || !r.Targets[0].Met {
		t.Fatalf("targets = %+v, want the archiving one met and the RPO one", r.Targets)
	}
	got := r.Targets[1]
	if got.Met || !reflect.DeepEqual(got.Missing, []string{"store/rpo-kill-lost-old-rows"}) || r.AllMet {
		t.Errorf("target without its measurement = %+v, AllMet %v; want not met, naming it", got, r.AllMet)
	}
	if md := r.Markdown(); !strings.Contains(md, "not measured: store/rpo-kill-lost-old-rows") {
		t.Errorf("Markdown = %q, want the missing measurement named", md)
	}
}

// One old row lost in any of the crashes fails the store's target.
func TestLostOldRowFailsTheStoreTarget(t *testing.T) {
	r := Report{StoreOnly: true, Samples: map[string][]float64{"store/rpo-kill-lost-old-rows": {0, 1, 0},
		"store/pgbench-archiving-tps": {950}, "store/pgbench-plain-tps": {1000}}}
	r.evaluate()
	if r.AllMet || r.Targets[1].Value != 1 {
		t.Errorf("targets = %+v, AllMet %v; want the lost row to fail it", r.Targets, r.AllMet)
	}
}
