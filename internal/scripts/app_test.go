package scripts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The backend's app launcher (app.py), under the machine's python3.

const envFile = `# the app's secrets
export API_KEY=sk-live-123
PLAIN = value with spaces   # a comment
SINGLE='literal $HOME # not a comment'
DOUBLE="line\none \"quoted\""
EMPTY=
HASH=a#b
`

// printEnv prints the named variables, one NAME=VALUE per line.
func printEnv(names ...string) []string {
	script := ""
	for _, n := range names {
		script += `printf '%s=%s\n' ` + n + ` "$` + n + `"; `
	}
	return []string{"--", "sh", "-c", script}
}

func TestAppLoadsTheEnvFile(t *testing.T) {
	s := newSandbox(t)
	file := s.write(filepath.Join(s.dir, "backend.env"), envFile, 0o400)
	stdout, stderr, err := s.run([]string{"COMMANDCENTER_ENV_FILE=" + file}, append([]string{"app"}, printEnv("API_KEY", "PLAIN", "SINGLE", "DOUBLE", "EMPTY", "HASH")...)...)
	if err != nil {
		t.Fatalf("app = %v, %q", err, stderr)
	}
	want := "API_KEY=sk-live-123\nPLAIN=value with spaces\nSINGLE=literal $HOME # not a comment\nDOUBLE=line\none \"quoted\"\nEMPTY=\nHASH=a#b\n"
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("variables mismatch (-want +got):\n%s", diff)
	}
}

func TestAppRejectsBadLinesByNumberOnly(t *testing.T) {
	tests := []struct {
		file, want string
	}{
		{"GOOD=1\nsk-live-secret-value\n", "--backend-env-file line 2: no '=': write KEY=VALUE"},
		{"1BAD=sk-live-secret-value\n", "--backend-env-file line 1: '1BAD' is not a variable name"},
		{"A='sk-live-secret-value\n", "--backend-env-file line 1: the single quote is not closed"},
		{"A=\"sk-live-secret-value\" trailing\n", "--backend-env-file line 1: text after the closing quote"},
		{"\n\nDATABASE_URL=postgresql://sk-live-secret-value\n", "--backend-env-file line 3: DATABASE_URL is set by the module and cannot be changed"},
		{"COMMANDCENTER_LOG_DIR=/tmp\n", "--backend-env-file line 1: COMMANDCENTER_LOG_DIR is set by the module"},
	}
	for _, tt := range tests {
		s := newSandbox(t)
		file := s.write(filepath.Join(s.dir, "backend.env"), tt.file, 0o400)
		env := []string{"COMMANDCENTER_RESERVED_ENV=DATABASE_URL REDIS_URL"}
		_, stderr, err := s.run(env, "app", "--check", file)
		if exitCode(err) != 78 || !strings.Contains(stderr, tt.want) {
			t.Errorf("--check of %q = %v, %q; want exit 78 and %q", tt.file, err, stderr, tt.want)
		}
		if strings.Contains(stderr, "sk-live-secret-value") {
			t.Errorf("--check of %q shows a value: %q", tt.file, stderr)
		}
		_, stderr, err = s.run(append(env, "COMMANDCENTER_ENV_FILE="+file), "app", "--", "touch", filepath.Join(s.dir, "started"))
		if exitCode(err) != 78 || s.exists("started") {
			t.Errorf("start with %q = %v, %q; want exit 78 and no server", tt.file, err, stderr)
		}
	}
}

func TestAppRunsTheMigrationFirst(t *testing.T) {
	s := newSandbox(t)
	file := s.write(filepath.Join(s.dir, "backend.env"), "API_KEY=from-the-file\n", 0o400)
	order := filepath.Join(s.dir, "order")
	stdout, stderr, err := s.run([]string{"COMMANDCENTER_ENV_FILE=" + file, "ORDER=" + order},
		"app", "--migrate", "3", "sh", "-c", `echo "migration saw $API_KEY" >> "$ORDER"`,
		"--", "sh", "-c", `echo server >> "$ORDER"; echo served`)
	if err != nil || stdout != "served\n" {
		t.Fatalf("app = %v, %q, %q", err, stdout, stderr)
	}
	if got := s.read("order"); got != "migration saw from-the-file\nserver\n" {
		t.Errorf("order = %q, want the migration, with the env file's variables, then the server", got)
	}
}

func TestAppFailingMigrationStopsTheStart(t *testing.T) {
	s := newSandbox(t)
	_, stderr, err := s.run(nil, "app", "--migrate", "3", "sh", "-c", "echo 'no such table' >&2; exit 3",
		"--", "touch", filepath.Join(s.dir, "started"))
	if exitCode(err) != 78 {
		t.Fatalf("app = %v, want exit 78 (not retried)", err)
	}
	for _, want := range []string{"no such table", "the migration (sh -c echo 'no such table' >&2; exit 3) exited with 3: the backend was not started"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr = %q, want %q", stderr, want)
		}
	}
	if _, err := os.Stat(filepath.Join(s.dir, "started")); err == nil {
		t.Error("the server started after a failed migration")
	}
}
