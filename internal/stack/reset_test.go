package stack

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// errText is err's message, or "" for nil, so that tables compare errors
// by what the user reads.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestPlanReset(t *testing.T) {
	store := Store{URL: "s3://team-backups/cc"}
	type result struct {
		Plan ResetPlan
		Err  string
	}
	tests := []struct {
		name      string
		store     Store
		yes       bool
		confirm   string
		localOnly bool
		want      result
	}{
		{name: "no store", yes: true, want: result{}},
		{name: "store: the store's copy is dropped first", store: store, yes: true,
			want: result{Plan: ResetPlan{StoreCommand: "drop"}}},
		{name: "local only: what the store lacks is pushed first", store: store, confirm: "shop", localOnly: true,
			want: result{Plan: ResetPlan{StoreCommand: "catch-up"}}},
		{name: "local only without a store", yes: true, localOnly: true,
			want: result{Err: "--local-only keeps the store's copy, and this project has no store (--store): without one, this engine's copy is the only one; nothing was deleted"}},
		{name: "unconfirmed, before the store flags", localOnly: true,
			want: result{Err: `reset deletes project "shop"'s database, Redis data, generated secrets, backend state and logs: confirm with --yes or --confirm shop; nothing was deleted`}},
		{name: "wrong name", store: store, confirm: "shp",
			want: result{Err: `--confirm "shp" is not the project's name "shop": nothing was deleted`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := PlanReset("shop", tt.store, tt.yes, tt.confirm, tt.localOnly)
			if diff := cmp.Diff(tt.want, result{plan, errText(err)}); diff != "" {
				t.Errorf("PlanReset (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResetPlanStoreFailed(t *testing.T) {
	down := errors.New("store s3://b/p: connection refused")
	tests := []struct {
		plan ResetPlan
		want string
	}{
		{ResetPlan{StoreCommand: "drop"}, `reset project "shop": the store's copy was not deleted, nor was anything else: store s3://b/p: connection refused`},
		{ResetPlan{StoreCommand: "catch-up"}, "reset --local-only: nothing was deleted: store s3://b/p: connection refused"},
	}
	for _, tt := range tests {
		err := tt.plan.StoreFailed("shop", down)
		if diff := cmp.Diff(tt.want, errText(err)); diff != "" {
			t.Errorf("%s: StoreFailed (-want +got):\n%s", tt.plan.StoreCommand, diff)
		}
		if !errors.Is(err, down) {
			t.Errorf("%s: StoreFailed does not wrap the store's error", tt.plan.StoreCommand)
		}
	}
}

func TestResetMounts(t *testing.T) {
	cfg := Config{Project: "shop", Images: Images{Redis: "redis:7-alpine"}}
	custom := cfg
	custom.BackendUser = "1000:1000"
	tests := []struct {
		name           string
		cfg            Config
		s              Service
		major, cluster string
		want           []Mount
	}{
		{"postgres, cluster of this major", cfg, Postgres, "16", "16", []Mount{
			{LogDir, "commandcenter-shop-logs-postgres", "postgres"},
			{PGData, "commandcenter-shop-pgdata-16", "postgres"},
			{GeneratedDBDir, "commandcenter-shop-db-secret", "postgres"},
		}},
		{"postgres, no cluster recorded", cfg, Postgres, "16", "", []Mount{
			{LogDir, "commandcenter-shop-logs-postgres", "postgres"},
			{PGData, "commandcenter-shop-pgdata-16", "postgres"},
			{GeneratedDBDir, "commandcenter-shop-db-secret", "postgres"},
		}},
		{"postgres, cluster of another major: both emptied", cfg, Postgres, "17", "16", []Mount{
			{LogDir, "commandcenter-shop-logs-postgres", "postgres"},
			{PGData, "commandcenter-shop-pgdata-17", "postgres"},
			{GeneratedDBDir, "commandcenter-shop-db-secret", "postgres"},
			{"/var/lib/postgresql/data-16", "commandcenter-shop-pgdata-16", "postgres"},
		}},
		{"redis, named by its image's major", cfg, Redis, "16", "", []Mount{
			{LogDir, "commandcenter-shop-logs-redis", "redis"},
			{"/data", "commandcenter-shop-redis-data-7", "redis"},
			{GeneratedRedisDir, "commandcenter-shop-redis-secret", "redis"},
		}},
		{"backend", cfg, Backend, "16", "", []Mount{
			{LogDir, "commandcenter-shop-logs-backend", "10001:10001"},
			{StateDir, "commandcenter-shop-backend-state", "10001:10001"},
		}},
		{"backend of its own image's user", custom, Backend, "16", "", []Mount{
			{LogDir, "commandcenter-shop-logs-backend", "1000:1000"},
			{StateDir, "commandcenter-shop-backend-state", "1000:1000"},
		}},
		{"frontend: its log only", cfg, Frontend, "16", "", []Mount{
			{LogDir, "commandcenter-shop-logs-frontend", "node"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cfg.ResetMounts(tt.s, tt.major, tt.cluster)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ResetMounts(%s, %q, %q) (-want +got):\n%s", tt.s, tt.major, tt.cluster, diff)
			}
		})
	}
}

func TestRestoreFailed(t *testing.T) {
	stderr := "pg_restore: connecting\npg_restore: error: could not execute query: ERROR:  relation \"items\" already exists\n"
	tests := []struct {
		exit int
		want string
	}{
		{ExitRestoreFailed, "restore: pg_restore failed, and the database was not changed:\npg_restore: connecting\npg_restore: error: could not execute query: ERROR:  relation \"items\" already exists"},
		{1, ""},
		{2, ""},
		{137, ""},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, errText(RestoreFailed(tt.exit, stderr))); diff != "" {
			t.Errorf("RestoreFailed(%d) (-want +got):\n%s", tt.exit, diff)
		}
	}
}

func TestStoreRestoreTime(t *testing.T) {
	store := Store{URL: "s3://team-backups/cc"}
	type result struct {
		At  time.Time
		Err string
	}
	tests := []struct {
		name  string
		store Store
		at    string
		want  result
	}{
		{"latest", store, "", result{}},
		{"a point in time", store, "2026-12-01T10:00:00+01:00", result{At: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}},
		{"no store", Store{}, "2026-12-01T10:00:00Z", result{Err: "--from-store needs the project's store: add --store s3://BUCKET/PREFIX and its other flags"}},
		{"no zone", store, "2026-12-01 10:00", result{Err: `--time "2026-12-01 10:00": want an RFC 3339 time with its zone, e.g. 2026-12-01T10:00:00Z`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, err := StoreRestoreTime(tt.store, tt.at)
			if diff := cmp.Diff(tt.want, result{at, errText(err)}, cmp.Comparer(time.Time.Equal)); diff != "" {
				t.Errorf("StoreRestoreTime(%q) (-want +got):\n%s", tt.at, diff)
			}
		})
	}
}

func TestParseStoreRangeOutput(t *testing.T) {
	info := `[{"backup":[{"label":"20261201-090000F","timestamp":{"stop":1796115600}}],"status":{"code":0,"message":"ok"}}]`
	archive := `{"16-1/0000000100000000/000000010000000000000003-ab.gz":{"type":"file","time":1796119200}}`
	r, err := ParseStoreRangeOutput(info + "\n" + archive)
	if err != nil {
		t.Fatalf("ParseStoreRangeOutput: %v", err)
	}
	got := struct {
		Oldest, Latest time.Time
		Backup         string
	}{r.Oldest, r.Latest, r.LatestBackup}
	want := struct {
		Oldest, Latest time.Time
		Backup         string
	}{time.Unix(1796115600, 0).UTC(), time.Unix(1796119200, 0).UTC(), "20261201-090000F"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseStoreRangeOutput (-want +got):\n%s", diff)
	}
	if _, err := ParseStoreRangeOutput("pgbackrest: unable to load info\n"); err == nil {
		t.Error("ParseStoreRangeOutput of an error message: wanted an error, got none")
	}
}

func TestStoreRestoreReport(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	got := StoreRestoreReport("shop", "s3://team-backups/cc", at, "20261201-090000F")
	want := `project "shop": the next start restores the database from the store s3://team-backups/cc, to 2026-12-01T10:00:00Z (base backup 20261201-090000F)`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("StoreRestoreReport (-want +got):\n%s", diff)
	}
}

func TestStoreCheckVerdict(t *testing.T) {
	down := errors.New("store s3://b/p: the bucket does not answer: check --store-endpoint")
	type result struct{ Warning, Err string }
	tests := []struct {
		name     string
		checkErr error
		runs     bool
		want     result
	}{
		{"store answers", nil, false, result{}},
		{"store answers, postgres runs", nil, true, result{}},
		{"store down: the start fails", down, false, result{Err: down.Error()}},
		{"store down, postgres runs: a warning only", down, true, result{Warning: "project \"shop\": " + down.Error() +
			"\nIts postgres runs, and keeps serving: see `dagger call status` for its archiving"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			warning, err := StoreCheckVerdict("shop", tt.checkErr, tt.runs)
			if diff := cmp.Diff(tt.want, result{warning, errText(err)}); diff != "" {
				t.Errorf("StoreCheckVerdict (-want +got):\n%s", diff)
			}
		})
	}
}
