package scripts

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// setupEnv is the environment commandcenter-pg-setup gets in the postgres
// container, with the setup of a cluster already recorded as recorded.
func (s *sandbox) setupEnv(recorded string) []string {
	s.t.Helper()
	env := s.pgEnv("POSTGRES_USER=commandcenter", "POSTGRES_DB=commandcenter",
		"COMMANDCENTER_PG_SUPERUSER=postgres", "COMMANDCENTER_PG_EXTENSIONS=vector")
	s.write(filepath.Join(s.bin, "commandcenter-pg-setup"), Named("pg-setup")[0].Contents, 0o755)
	if recorded != "" {
		dir := filepath.Join(s.dir, "pgdata", "commandcenter")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			s.t.Fatal(err)
		}
		s.write(filepath.Join(dir, "setup"), recorded, 0o600)
	}
	// pg_ctl appends each call's argv: start, then stop
	s.write(filepath.Join(s.bin, "pg_ctl"), "#!/bin/sh\nprintf '%s\\n' \"$@\" >>\"$FAKE_OUT/pg_ctl.argv\"\n", 0o755)
	return env
}

func TestPgSetupDoesNothingWhenTheSetupIsRecorded(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the C library is read from /lib")
	}
	s := newSandbox(t)
	env := s.setupEnv("roles=1\nextensions=vector\nlibc=" + hostLibc() + "\n")
	if _, stderr, err := s.run(env, "pg-setup"); err != nil {
		t.Fatalf("pg-setup = %v, %q", err, stderr)
	}
	if s.exists("pg_ctl.argv") {
		t.Errorf("pg-setup started a server for a recorded setup: %q", s.read("pg_ctl.argv"))
	}
}

func TestPgSetupStartsASocketOnlyServerForAnotherSetup(t *testing.T) {
	for name, recorded := range map[string]string{
		"new cluster":       "",
		"another extension": "roles=1\nextensions=pg_trgm\nlibc=" + hostLibc() + "\n",
		"another C library": "roles=1\nextensions=vector\nlibc=other\n",
	} {
		t.Run(name, func(t *testing.T) {
			s := newSandbox(t)
			env := s.setupEnv(recorded)
			// the fake server accepts nothing: psql fails, and the setup with it
			s.write(filepath.Join(s.bin, "psql"), "#!/bin/sh\nexit 2\n", 0o755)
			if _, _, err := s.run(env, "pg-setup"); err == nil {
				t.Fatal("pg-setup succeeded without a server")
			}
			argv := s.read("pg_ctl.argv")
			for _, want := range []string{"-c listen_addresses= -c unix_socket_directories=", "start"} {
				if !strings.Contains(argv, want) {
					t.Errorf("pg_ctl argv = %q, want %q in it", argv, want)
				}
			}
			if strings.Contains(argv, "archive_mode") {
				t.Errorf("pg_ctl argv = %q: archive settings without a store", argv)
			}
		})
	}
}

func TestPgSetupKeepsWALForTheStore(t *testing.T) {
	s := newSandbox(t)
	env := append(s.setupEnv(""), "COMMANDCENTER_STORE=s3://bucket/cc")
	s.write(filepath.Join(s.bin, "psql"), "#!/bin/sh\nexit 2\n", 0o755)
	_, _, _ = s.run(env, "pg-setup")
	if argv := s.read("pg_ctl.argv"); !strings.Contains(argv, "-c archive_mode=on -c archive_command=") {
		t.Errorf("pg_ctl argv = %q, want archive_mode=on with no command, so the WAL waits for the archiver", argv)
	}
}

// hostLibc is the C library pg-setup finds on this machine.
func hostLibc() string {
	if m, _ := filepath.Glob("/lib/ld-musl-*"); len(m) > 0 {
		return "musl"
	}
	return "glibc"
}
