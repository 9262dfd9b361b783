package main

import (
	"regexp"
	"strings"
)

// The install steps, by the command lines the module and the naive baseline run.
var installSteps = map[string]*regexp.Regexp{
	"pip":       regexp.MustCompile(`withExec sh -c .*pip install --cache-dir /var/cache/pip -r /app/requirements\.txt`),
	"npm":       regexp.MustCompile(`withExec /usr/local/bin/commandcenter-frontend-install `),
	"naive-pip": regexp.MustCompile(`withExec pip install -r requirements\.txt`),
	"naive-npm": regexp.MustCompile(`withExec npm ci --no-audit --no-fund(\s|$)`),
}

var (
	ansi       = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	spanLine   = regexp.MustCompile(`^\s*(\d+)\s*:`)
	execStatus = regexp.MustCompile(`Container\.withExec (DONE|CACHED|ERROR)`)
)

// countInstalls reads the engine's record of a session, as the CLI prints
// it with --progress=plain, and counts, per install step, the executions
// that really ran: each span that names the step's command and ends DONE
// rather than CACHED.
func countInstalls(progress string) map[string]int {
	step := map[string]string{}   // span -> install step it runs
	status := map[string]string{} // span -> DONE, CACHED or ERROR
	for _, line := range strings.Split(ansi.ReplaceAllString(progress, ""), "\n") {
		m := spanLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		span := m[1]
		for name, re := range installSteps {
			if re.MatchString(line) {
				step[span] = name
			}
		}
		if s := execStatus.FindStringSubmatch(line); s != nil {
			status[span] = s[1]
		}
	}
	counts := map[string]int{}
	for name := range installSteps {
		counts[name] = 0
	}
	for span, name := range step {
		if status[span] == "DONE" {
			counts[name]++
		}
	}
	return counts
}
