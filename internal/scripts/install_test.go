package scripts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The frontend's install picks the tool its lockfile names. The package
// managers here are fakes that record their argv.

func TestFrontendInstallPicksTheLockfilesTool(t *testing.T) {
	tests := []struct {
		files []string
		tools []string // fakes installed besides npm
		want  string   // file holding the argv, and its first line
	}{
		{[]string{"package-lock.json"}, nil, "npm.argv:ci"},
		{[]string{"npm-shrinkwrap.json"}, nil, "npm.argv:ci"},
		{nil, nil, "npm.argv:install"},
		{[]string{"pnpm-lock.yaml"}, []string{"pnpm"}, "pnpm.argv:install"},
		{[]string{"pnpm-lock.yaml"}, []string{"corepack"}, "corepack.argv:pnpm"},
		{[]string{"yarn.lock"}, []string{"corepack"}, "corepack.argv:yarn"},
		{[]string{"yarn.lock", ".yarnrc.yml"}, []string{"yarn"}, "yarn.argv:install"},
	}
	for _, tt := range tests {
		s := newSandbox(t)
		app := filepath.Join(s.dir, "app")
		if err := os.Mkdir(app, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range append(tt.files, "package.json") {
			s.write(filepath.Join(app, f), "{}", 0o644)
		}
		for _, tool := range append(tt.tools, "npm") {
			s.fake(tool)
		}
		cmd := s.command(nil, "frontend-install", filepath.Join(s.dir, "cache"))
		cmd.Dir = app
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("install with %v = %v, %s", tt.files, err, out)
			continue
		}
		file, first, _ := strings.Cut(tt.want, ":")
		if got := strings.SplitN(s.read(file), "\n", 2)[0]; got != first {
			t.Errorf("install with %v and %v: %s starts with %q, want %q", tt.files, tt.tools, file, got, first)
		}
	}
}

func TestFrontendInstallNamesAMissingTool(t *testing.T) {
	s := newSandbox(t)
	app := filepath.Join(s.dir, "app")
	if err := os.Mkdir(app, 0o755); err != nil {
		t.Fatal(err)
	}
	s.write(filepath.Join(app, "pnpm-lock.yaml"), "lockfileVersion: '9.0'\n", 0o644)
	s.fake("npm")
	cmd := s.command([]string{"PATH=" + s.bin}, "frontend-install", filepath.Join(s.dir, "cache"))
	cmd.Dir = app
	out, err := cmd.CombinedOutput()
	if exitCode(err) != 78 || !strings.Contains(string(out), "the frontend's pnpm-lock.yaml needs pnpm, and this node image has neither pnpm nor corepack") {
		t.Errorf("install without pnpm = %v, %q; want exit 78 naming the fix", err, out)
	}
}
