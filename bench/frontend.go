package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// The frontend phase: a real-size frontend (the tests module's
// testdata/realsize, about 500 npm packages) built after a source-only
// change, by the module and with the naive layering, its packages installed
// from a registry that the lab serves (-frontend-registry).

const (
	// frontendWarmLine is what the tests module's frontend phase prints on
	// stderr once the module's install is warm: the install steps after it
	// ran after a source-only change.
	frontendWarmLine = "commandcenter-bench: frontend warm"
	// registryUnavailable starts the phase's error when containers cannot
	// use the registry: the phase is then skipped, not failed.
	registryUnavailable = "the real-size frontend's registry is unavailable"
	// realSizeLock is the fixture's lockfile, inside the tests module.
	realSizeLock = "testdata/realsize/frontend/package-lock.json"
	// frontendInstallTarget is the target on the module's install steps.
	frontendInstallTarget = "install steps re-run after a source-only change in the real-size frontend (module)"
)

// FrontendRun is the frontend phase's outcome, beside its samples.
type FrontendRun struct {
	Packages  int    `json:"packages"`          // in the fixture's lockfile; 0 when it could not be read
	Installed int    `json:"installed"`         // as npm ci reported ("added N packages"); 0 when not seen
	Skipped   string `json:"skipped,omitempty"` // why the phase did not run
}

var npmAdded = regexp.MustCompile(`added (\d+) packages`)

// frontendArgs are Bench's arguments for the frontend phase; an empty
// registry leaves the tests module's default.
func frontendArgs(registry string) []string {
	args := []string{"--phase", "frontend"}
	if registry != "" {
		args = append(args, "--registry", registry)
	}
	return args
}

// runFrontend runs the frontend phase and adds to report its samples,
// install steps and outcome. A registry that containers cannot use skips
// the phase; any other failure is returned.
func (d driver) runFrontend(registry string, report *Report) error {
	fmt.Fprintln(os.Stderr, "bench: phase frontend")
	run := &FrontendRun{Packages: lockPackages(filepath.Join(d.mod, realSizeLock))}
	report.Frontend = run
	out, err := d.call(frontendArgs(registry), nil)
	if err != nil {
		if reason, ok := skipReason(err.Error()); ok {
			run.Skipped = reason
			fmt.Fprintf(os.Stderr, "bench: frontend: skipped: %s\n", reason)
			return nil
		}
		return fmt.Errorf("frontend: %w", err)
	}
	for name, values := range out.Samples {
		report.Samples[name] = values
	}
	for name, n := range frontendInstalls(out.progress) {
		report.Installs[name] = n
	}
	run.Installed = npmInstalled(out.progress)
	return nil
}

// frontendInstalls counts the install steps of the frontend phase's
// session: those before frontendWarmLine under frontend/warm-up/, those
// after it, which ran after a source-only change, under frontend/. Without
// the line, every step counts as after it.
func frontendInstalls(progress string) map[string]int {
	warm, changed := "", progress
	if i := strings.Index(progress, frontendWarmLine); i >= 0 {
		warm, changed = progress[:i], progress[i:]
	}
	installs := map[string]int{}
	for name, n := range countInstalls(warm) {
		installs["frontend/warm-up/"+name] = n
	}
	for name, n := range countInstalls(changed) {
		installs["frontend/"+name] = n
	}
	return installs
}

// npmInstalled is the largest number of packages that an npm ci of the
// session reported adding.
func npmInstalled(progress string) int {
	most := 0
	for _, m := range npmAdded.FindAllStringSubmatch(progress, -1) {
		n, _ := strconv.Atoi(m[1]) // digits, by the pattern
		most = max(most, n)
	}
	return most
}

// skipReason finds registryUnavailable in a failed phase's error and
// returns it with the rest of its line, without colours.
func skipReason(msg string) (string, bool) {
	msg = ansi.ReplaceAllString(msg, "")
	i := strings.Index(msg, registryUnavailable)
	if i < 0 {
		return "", false
	}
	reason, _, _ := strings.Cut(msg[i:], "\n")
	return strings.TrimSpace(reason), true
}

// lockPackages counts the packages of an npm lockfile (version 2 or 3), the
// root excluded; 0 when it cannot be read.
func lockPackages(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var lock struct {
		Packages map[string]json.RawMessage `json:"packages"`
	}
	if json.Unmarshal(data, &lock) != nil {
		return 0
	}
	delete(lock.Packages, "")
	return len(lock.Packages)
}

// frontendTargets checks that a source-only change re-ran none of the
// module's install steps, unless the phase was skipped or left out.
func (r *Report) frontendTargets() {
	if r.Frontend == nil || r.Frontend.Skipped != "" {
		return
	}
	r.check(frontendInstallTarget, float64(r.Installs["frontend/npm"]), 0)
}

// frontendMarkdown renders the frontend phase's comparison, or why it was skipped.
func (r *Report) frontendMarkdown(b *strings.Builder) {
	f := r.Frontend
	if f == nil {
		return
	}
	size := "size unknown"
	if f.Packages > 0 {
		size = fmt.Sprintf("%d packages", f.Packages)
	}
	if f.Installed > 0 {
		size += fmt.Sprintf(", %d installed on this platform", f.Installed)
	}
	if f.Skipped != "" {
		fmt.Fprintf(b, "\nReal-size frontend (%s): skipped: %s\n", size, f.Skipped)
		return
	}
	naive, module := r.Stats["frontend/naive-build"].Median, r.Stats["frontend/module-build"].Median
	fmt.Fprintf(b, "\nReal-size frontend (%s) after a source-only change: naive layering %.2f s, the module's %.2f s", size, naive, module)
	if module > 0 {
		fmt.Fprintf(b, " (ratio %.1f)", naive/module)
	}
	fmt.Fprintf(b, "; install steps re-run: naive %d, the module's %d.\n", r.Installs["frontend/naive-npm"], r.Installs["frontend/npm"])
}
