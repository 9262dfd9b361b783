package scripts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// templateEnv is pg-template's environment for a project's first start,
// with a fake postgres that records its argv and stdin.
func (s *sandbox) templateEnv(fakeErr string) []string {
	s.t.Helper()
	s.write(filepath.Join(s.bin, "postgres"), `#!/bin/sh
printf '%s\n' "$@" > "$FAKE_OUT/postgres.argv"
cat > "$FAKE_OUT/postgres.stdin"
printf '%s' "`+fakeErr+`" >&2
`, 0o755)
	return []string{"PGDATA=" + filepath.Join(s.dir, "pgdata"), "POSTGRES_USER=commandcenter",
		"COMMANDCENTER_PG_SUPERUSER=postgres",
		"POSTGRES_PASSWORD_FILE=" + s.write(filepath.Join(s.dir, "pw"), "the-project-password\n", 0o400)}
}

func TestPgTemplateSetsThePasswordFromItsFile(t *testing.T) {
	s := newSandbox(t)
	if _, stderr, err := s.run(s.templateEnv(""), "pg-template", "password"); err != nil {
		t.Fatalf("pg-template password = %v, %q", err, stderr)
	}
	if got, want := s.read("postgres.argv"), "--single\n-D\n"+filepath.Join(s.dir, "pgdata")+"\npostgres\n"; got != want {
		t.Errorf("postgres argv = %q, want %q: single-user mode, as the module's superuser", got, want)
	}
	sql := s.read("postgres.stdin")
	for _, want := range []string{"alter role %I password %L', 'commandcenter'", "pg_read_file('" + filepath.Join(s.dir, "pw") + "')", `E'\n'`} {
		if !strings.Contains(sql, want) {
			t.Errorf("SQL = %q, want %q in it", sql, want)
		}
	}
	if strings.Contains(sql, "the-project-password") || strings.Count(sql, "\n") != 1 {
		t.Errorf("SQL = %q: want one line, without the password", sql)
	}
}

func TestPgTemplateFailsOnAnErrorOfTheSingleUserServer(t *testing.T) {
	s := newSandbox(t)
	_, stderr, err := s.run(s.templateEnv(`ERROR:  role "commandcenter" does not exist`), "pg-template", "password")
	if err == nil || !strings.Contains(stderr, "does not exist") {
		t.Errorf("pg-template password = %v, %q: want a failure with the server's error", err, stderr)
	}
}

func TestPostgresCopiesTheTemplateForANewProject(t *testing.T) {
	s := newSandbox(t)
	template := filepath.Join(s.dir, "template")
	if err := os.MkdirAll(filepath.Join(template, "base"), 0o700); err != nil {
		t.Fatal(err)
	}
	s.write(filepath.Join(template, "PG_VERSION"), "16\n", 0o600)
	s.write(filepath.Join(template, "base", "1"), "catalog", 0o600)
	env := s.pgEnv("COMMANDCENTER_PG_TEMPLATE=" + template)
	s.fake("commandcenter-pg-template")
	s.fake("docker-ensure-initdb.sh")
	s.fake("postgres")
	_, stderr, err := s.run(env, "postgres")
	if err != nil {
		t.Fatalf("postgres = %v, %q", err, stderr)
	}
	if s.read("pgdata/base/1") != "catalog" || s.read("commandcenter-pg-template.argv") != "password\n" {
		t.Error("postgres did not copy the template and set the project's password")
	}
	if s.exists("docker-ensure-initdb.sh.argv") || s.exists("logs/postgres.initializing") {
		t.Error("postgres ran initdb, or left its cluster marked as being made")
	}
	if !strings.Contains(stderr, "cluster copied from the image's template") {
		t.Errorf("stderr = %q, want it to say the cluster was copied from the template", stderr)
	}
}
