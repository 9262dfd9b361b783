package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// frontendTranscript: the module's install ran in the warm-up (span 20),
// then came from cache after the change (span 31); the naive npm ci ran
// twice (spans 40 and 41).
const frontendTranscript = "20  : ┆ withExec /usr/local/bin/commandcenter-frontend-install /var/cache/npm\n" +
	"20  : ┆ Container.withExec DONE [41.0s]\n" +
	"12  : ┆ " + frontendWarmLine + "\n" +
	"31  : ┆ withExec /usr/local/bin/commandcenter-frontend-install /var/cache/npm\n" +
	"31  : ┆ Container.withExec CACHED [0.0s]\n" +
	"40  : ┆ withExec npm ci --no-audit --no-fund\n" +
	"40  : ┆ [38.1s] | added 478 packages in 38s\n" +
	"40  : ┆ Container.withExec DONE [38.5s]\n" +
	"41  : ┆ withExec npm ci --no-audit --no-fund\n" +
	"41  : ┆ [36.0s] | added 478 packages in 36s\n" +
	"41  : ┆ Container.withExec DONE [36.4s]\n"

func TestFrontendInstalls(t *testing.T) {
	tests := []struct {
		name, progress string
		want           map[string]int
	}{
		{"split at the warm line", frontendTranscript, map[string]int{
			"frontend/warm-up/npm": 1, "frontend/warm-up/naive-npm": 0, "frontend/warm-up/pip": 0, "frontend/warm-up/naive-pip": 0,
			"frontend/npm": 0, "frontend/naive-npm": 2, "frontend/pip": 0, "frontend/naive-pip": 0,
		}},
		{"no warm line: all after it", strings.Replace(frontendTranscript, frontendWarmLine, "something else", 1), map[string]int{
			"frontend/warm-up/npm": 0, "frontend/warm-up/naive-npm": 0, "frontend/warm-up/pip": 0, "frontend/warm-up/naive-pip": 0,
			"frontend/npm": 1, "frontend/naive-npm": 2, "frontend/pip": 0, "frontend/naive-pip": 0,
		}},
	}
	for _, tt := range tests {
		if got := frontendInstalls(tt.progress); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: frontendInstalls() = %v\nwant %v", tt.name, got, tt.want)
		}
	}
}

func TestNpmInstalled(t *testing.T) {
	if got := npmInstalled(frontendTranscript); got != 478 {
		t.Errorf("npmInstalled() = %d, want 478", got)
	}
	if got := npmInstalled("up to date in 40ms"); got != 0 {
		t.Errorf("npmInstalled() without npm output = %d, want 0", got)
	}
}

func TestSkipReason(t *testing.T) {
	tests := []struct {
		msg, want string
		ok        bool
	}{
		{"exit status 1\nError: call function \"Bench\": frontend: " + registryUnavailable + ": a container cannot reach http://10.87.0.1:4873/: timed out\n  more",
			registryUnavailable + ": a container cannot reach http://10.87.0.1:4873/: timed out", true},
		{"\x1b[31m" + registryUnavailable + ": GET http://x/react.tgz answered 404\x1b[0m\n",
			registryUnavailable + ": GET http://x/react.tgz answered 404", true},
		{"exit status 1\nError: frontend: module build: npm ci exited 1", "", false},
	}
	for _, tt := range tests {
		got, ok := skipReason(tt.msg)
		if got != tt.want || ok != tt.ok {
			t.Errorf("skipReason(%q) = %q, %v; want %q, %v", tt.msg, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLockPackages(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "package-lock.json")
	data := `{"lockfileVersion": 3, "packages": {"": {"name": "app"}, "node_modules/react": {}, "node_modules/vite": {}, "node_modules/a/node_modules/b": {}}}`
	if err := os.WriteFile(lock, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := lockPackages(lock); got != 3 {
		t.Errorf("lockPackages() = %d, want 3", got)
	}
	if got := lockPackages(filepath.Join(dir, "missing.json")); got != 0 {
		t.Errorf("lockPackages(missing) = %d, want 0", got)
	}
}

func TestFrontendArgs(t *testing.T) {
	if got := strings.Join(frontendArgs(""), " "); got != "--phase frontend" {
		t.Errorf("frontendArgs(\"\") = %q", got)
	}
	if got := strings.Join(frontendArgs("http://10.0.0.1:4873/"), " "); got != "--phase frontend --registry http://10.0.0.1:4873/" {
		t.Errorf("frontendArgs(url) = %q", got)
	}
}

func frontendReport(installs int, f *FrontendRun) Report {
	r := Report{
		Samples:      map[string][]float64{"frontend/module-build": {1.5, 1.2, 1.4}, "frontend/naive-build": {40, 38, 42}},
		Installs:     map[string]int{"frontend/npm": installs, "frontend/naive-npm": 3},
		FrontendOnly: true, Frontend: f,
	}
	r.evaluate()
	return r
}

func TestFrontendReport(t *testing.T) {
	tests := []struct {
		name       string
		installs   int
		run        *FrontendRun
		targets    []Target
		line, more string
	}{
		{"measured", 0, &FrontendRun{Packages: 521, Installed: 478},
			[]Target{{Name: frontendInstallTarget, Value: 0, Limit: 0, Met: true}},
			"Real-size frontend (521 packages, 478 installed on this platform) after a source-only change: naive layering 40.00 s, the module's 1.40 s (ratio 28.6); install steps re-run: naive 3, the module's 0.", ""},
		{"install re-ran", 1, &FrontendRun{Packages: 521},
			[]Target{{Name: frontendInstallTarget, Value: 1, Limit: 0, Met: false}},
			"Real-size frontend (521 packages) after a source-only change", "install steps re-run: naive 3, the module's 1."},
		{"skipped", 0, &FrontendRun{Skipped: registryUnavailable + ": a container cannot reach it"}, nil,
			"Real-size frontend (size unknown): skipped: " + registryUnavailable + ": a container cannot reach it", ""},
		{"left out", 0, nil, nil, "", ""},
	}
	for _, tt := range tests {
		r := frontendReport(tt.installs, tt.run)
		if !reflect.DeepEqual(r.Targets, tt.targets) {
			t.Errorf("%s: targets = %+v\nwant %+v", tt.name, r.Targets, tt.targets)
		}
		if r.AllMet != (tt.installs == 0) {
			t.Errorf("%s: AllMet = %v", tt.name, r.AllMet)
		}
		md := r.Markdown()
		if tt.line == "" && strings.Contains(md, "Real-size frontend") {
			t.Errorf("%s: markdown mentions the frontend phase:\n%s", tt.name, md)
		}
		if !strings.Contains(md, tt.line) || !strings.Contains(md, tt.more) {
			t.Errorf("%s: markdown lacks %q and %q:\n%s", tt.name, tt.line, tt.more, md)
		}
	}
}
