package scripts

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// familyEnv lays out a project whose cluster is on the volumes of another
// image family (uid 70) and returns pg-family's environment and the user
// it runs for (this test's own, so that chown works without root).
func (s *sandbox) familyEnv() ([]string, string) {
	s.t.Helper()
	me, err := user.Current()
	if err != nil {
		s.t.Fatal(err)
	}
	families := filepath.Join(s.dir, "families")
	for _, d := range []string{"pgdata", "db", "families/70/data/base", "families/70/logs", "families/70/db", "families/" + me.Uid + "/data"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o700); err != nil {
			s.t.Fatal(err)
		}
	}
	s.write(filepath.Join(families, "70/data/PG_VERSION"), "16\n", 0o600)
	s.write(filepath.Join(families, "70/data/base/1"), "rows", 0o600)
	s.write(filepath.Join(families, "70/logs/postgres.major"), "16\n", 0o600)
	s.write(filepath.Join(families, "70/db/password"), "generated", 0o400)
	// what a start of this image that found no cluster left behind
	s.write(filepath.Join(s.dir, "pgdata", "stale"), "x", 0o600)
	return []string{"PGDATA=" + filepath.Join(s.dir, "pgdata"), "COMMANDCENTER_PROJECT=shop",
		"COMMANDCENTER_PG_IMAGE=pgvector/pgvector:pg16", "COMMANDCENTER_PG_FAMILIES=" + families,
		"COMMANDCENTER_DB_SECRET_DIR=" + filepath.Join(s.dir, "db")}, me.Username
}

func TestPgFamilyCopiesTheOtherFamilysCluster(t *testing.T) {
	s := newSandbox(t)
	env, me := s.familyEnv()
	_, stderr, err := s.run(env, "pg-family", me)
	if err != nil {
		t.Fatalf("pg-family = %v, %q", err, stderr)
	}
	for name, want := range map[string]string{
		"pgdata/PG_VERSION": "16\n", "pgdata/base/1": "rows", "logs/postgres.major": "16\n",
		"db/password": "generated", "families/70/data/PG_VERSION.moved": "16\n",
	} {
		if got := s.read(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for _, gone := range []string{"pgdata/stale", "families/70/data/PG_VERSION"} {
		if s.exists(gone) {
			t.Errorf("%s is still there", gone)
		}
	}
	if !strings.Contains(stderr, "uid 70") || !strings.Contains(stderr, "copying it") {
		t.Errorf("stderr = %q, want it to say that it copies the cluster of uid 70", stderr)
	}
	info, err := os.Stat(filepath.Join(s.dir, "pgdata"))
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("pgdata mode = %v (%v), want 0700, as the server requires", info.Mode().Perm(), err)
	}
}

func TestPgFamilyLeavesAClusterOfThisFamilyAlone(t *testing.T) {
	s := newSandbox(t)
	env, me := s.familyEnv()
	s.write(filepath.Join(s.dir, "pgdata", "PG_VERSION"), "16\n", 0o600)
	if _, stderr, err := s.run(env, "pg-family", me); err != nil || stderr != "" {
		t.Fatalf("pg-family = %v, %q; want a silent success", err, stderr)
	}
	if !s.exists("families/70/data/PG_VERSION") || s.exists("pgdata/base/1") {
		t.Error("pg-family copied a cluster over this family's own")
	}
}

func TestPgFamilyRefusesWhileTheOtherFamilysServerRuns(t *testing.T) {
	s := newSandbox(t)
	env, me := s.familyEnv()
	lock, err := os.OpenFile(filepath.Join(s.dir, "families/70/logs/postgres.lock"), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := s.run(env, "pg-family", me)
	if code := exitCode(err); code != 75 {
		t.Fatalf("pg-family exit = %d (%q), want 75", code, stderr)
	}
	if !strings.Contains(stderr, "stop it first") || s.exists("pgdata/PG_VERSION") || !s.exists("pgdata/stale") {
		t.Errorf("stderr = %q: want a refusal that changed nothing", stderr)
	}
}
