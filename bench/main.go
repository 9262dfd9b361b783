// Command bench measures the commandcenter stack through a Dagger engine:
// solo starts, warm starts, starts after a source-only change (with the
// install steps the engine re-ran, against the naive layering), restarts,
// readiness lag and a cold start. Each phase runs in its own engine session
// through the tests module's Bench function; this program reads the
// engine's record of executed steps from the progress output, prints a
// markdown table, writes JSON and exits non-zero when a target is missed.
//
// Usage, from the repository root: go -C bench run . -out ../bench-results.json
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"
)

var phases = []string{"solo", "warm", "change", "naive", "restart", "cold"}

func main() {
	daggerBin := flag.String("dagger", "dagger", "the Dagger CLI")
	mod := flag.String("mod", "../tests", "the tests module")
	out := flag.String("out", "bench-results.json", "where to write the JSON report")
	flag.Parse()

	run := strconv.FormatInt(time.Now().Unix(), 36)
	report := Report{Run: run, Machine: machine(), Samples: map[string][]float64{}, Installs: map[string]int{}}
	for _, phase := range phases {
		fmt.Fprintf(os.Stderr, "bench: phase %s\n", phase)
		samples, installs, err := runPhase(*daggerBin, *mod, phase, run)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", phase, err)
			os.Exit(2)
		}
		for name, values := range samples {
			report.Samples[name] = values
		}
		for name, n := range installs {
			report.Installs[phase+"/"+name] = n
		}
	}
	report.evaluate()
	fmt.Print(report.Markdown())
	data, err := json.MarshalIndent(report, "", "  ")
	if err == nil {
		err = os.WriteFile(*out, append(data, '\n'), 0o644)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: write %s: %v\n", *out, err)
		os.Exit(2)
	}
	if !report.AllMet {
		os.Exit(1)
	}
}

// runPhase runs one phase in its own engine session and returns its samples
// and the install steps the engine executed (not served from cache).
func runPhase(daggerBin, mod, phase, run string) (map[string][]float64, map[string]int, error) {
	cmd := exec.Command(daggerBin, "call", "-m", mod, "--progress=plain", "bench", "--phase", phase, "--run", run)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, nil, fmt.Errorf("%v\n%s", err, tail(stderr.String(), 30))
	}
	var res struct {
		Samples map[string][]float64 `json:"samples"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		return nil, nil, fmt.Errorf("read the phase's JSON %q: %v", stdout.String(), err)
	}
	return res.Samples, countInstalls(stderr.String()), nil
}
