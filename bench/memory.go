package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The engine's memory, read from the host's /proc: the proportional set
// size (PSS) of the engine process and of every process under it, so that
// the services' containers count and a page shared by several processes
// counts once in all. The root of /proc is a parameter, for tests.

// engineComm is the process name of a Dagger engine, as /proc/<pid>/comm shows it.
const engineComm = "dagger-engine"

// engineMemory measures one engine's process tree.
type engineMemory struct {
	proc string // where /proc is mounted
	pid  int    // the engine process
}

// findEngine returns the PID of the engine process: the one process named
// dagger-engine that runs under no other one.
func findEngine(proc string) (int, error) {
	tree, err := readTree(proc)
	if err != nil {
		return 0, err
	}
	var tops []int
	for pid, p := range tree {
		if p.comm == engineComm && !underEngine(tree, p.ppid) {
			tops = append(tops, pid)
		}
	}
	slices.Sort(tops)
	switch len(tops) {
	case 0:
		return 0, fmt.Errorf("no %s process in %s: the engine runs elsewhere, or pass -engine-pid", engineComm, proc)
	case 1:
		return tops[0], nil
	default:
		return 0, fmt.Errorf("%d %s processes (%v): pass -engine-pid", len(tops), engineComm, tops)
	}
}

// underEngine says whether pid is an engine process or runs under one.
func underEngine(tree map[int]process, pid int) bool {
	for seen := 0; pid > 0 && seen < len(tree); seen++ {
		p, ok := tree[pid]
		if !ok {
			return false
		}
		if p.comm == engineComm {
			return true
		}
		pid = p.ppid
	}
	return false
}

// process is what the memory measurement needs of one /proc entry.
type process struct {
	ppid int
	comm string
}

// readTree reads the parent and name of every process in proc. A process
// that exits while it is read is left out.
func readTree(proc string) (map[int]process, error) {
	entries, err := os.ReadDir(proc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", proc, err)
	}
	tree := map[int]process{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(proc, e.Name(), "stat"))
		if exited(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read the stat of %d: %w", pid, err)
		}
		p, err := parseStat(stat)
		if err != nil {
			return nil, fmt.Errorf("pid %d: %w", pid, err)
		}
		tree[pid] = p
	}
	return tree, nil
}

// exited says whether err comes from reading the /proc entry of a process
// that has exited: its directory is gone (ENOENT), or still there but
// empty of it (ESRCH).
func exited(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// parseStat reads the name and parent of /proc/<pid>/stat: "pid (comm) state
// ppid ...". The name may hold spaces and parentheses, so it ends at the
// last ')'.
func parseStat(stat []byte) (process, error) {
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return process{}, fmt.Errorf("stat %q: no (comm)", stat)
	}
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) < 2 {
		return process{}, fmt.Errorf("stat %q: no ppid", stat)
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return process{}, fmt.Errorf("stat %q: ppid: %w", stat, err)
	}
	return process{ppid: ppid, comm: string(stat[open+1 : end])}, nil
}

// descendants returns pid and every process under it, in ascending order.
func descendants(tree map[int]process, pid int) []int {
	children := map[int][]int{}
	for p, info := range tree {
		children[info.ppid] = append(children[info.ppid], p)
	}
	found := []int{pid}
	for i := 0; i < len(found); i++ {
		found = append(found, children[found[i]]...)
	}
	slices.Sort(found)
	return found
}

// pssKiB reads the Pss line of /proc/<pid>/smaps_rollup. A process that has
// exited, or a kernel thread, which has no memory of its own, counts 0.
func pssKiB(proc string, pid int) (int64, error) {
	data, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "smaps_rollup"))
	if exited(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the smaps_rollup of %d: %w", pid, err)
	}
	for line := range strings.Lines(string(data)) {
		value, ok := strings.CutPrefix(line, "Pss:")
		if !ok {
			continue
		}
		fields := strings.Fields(value) // "213836 kB"
		if len(fields) == 0 {
			return 0, fmt.Errorf("smaps_rollup of %d: empty Pss line", pid)
		}
		kib, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("smaps_rollup of %d: Pss: %w", pid, err)
		}
		return kib, nil
	}
	return 0, nil
}

// kib is the PSS of the engine and every process under it, in KiB.
func (e engineMemory) kib() (int64, error) {
	tree, err := readTree(e.proc)
	if err != nil {
		return 0, err
	}
	if _, ok := tree[e.pid]; !ok {
		return 0, fmt.Errorf("no process %d in %s", e.pid, e.proc)
	}
	var sum int64
	for _, pid := range descendants(tree, e.pid) {
		kib, err := pssKiB(e.proc, pid)
		if err != nil {
			return 0, err
		}
		sum += kib
	}
	return sum, nil
}

// peakKiB takes n measurements, every apart, and returns the largest: one
// measurement may fall between a process's exit and its replacement.
func (e engineMemory) peakKiB(n int, every time.Duration) (int64, error) {
	var peak int64
	for i := range n {
		if i > 0 {
			time.Sleep(every)
		}
		kib, err := e.kib()
		if err != nil {
			return 0, err
		}
		peak = max(peak, kib)
	}
	return peak, nil
}

// locateEngine finds the engine's process (pid, or the one named
// dagger-engine when pid is 0) and says how its memory is measured, or why
// it is not: a missing engine makes the memory "not measured", not the
// benchmark fail.
func locateEngine(proc string, pid int) (*engineMemory, string) {
	if pid == 0 {
		var err error
		if pid, err = findEngine(proc); err != nil {
			return nil, "not measured: " + err.Error()
		}
	}
	m := &engineMemory{proc: proc, pid: pid}
	if _, err := m.kib(); err != nil {
		return nil, "not measured: " + err.Error()
	}
	return m, fmt.Sprintf("the PSS of the engine (pid %d) and every process under it, from %s/<pid>/smaps_rollup; "+
		"per project, the growth from just before the phase to the largest of %d samples %s apart while all projects run, divided by N",
		pid, proc, memorySamples, memoryEvery)
}

// memoryWatch measures the engine's memory just before a capacity phase
// starts, and again once the phase prints allHealthyLine.
type memoryWatch struct {
	memory         *engineMemory // nil: not measured
	baseline, peak int64         // KiB
	every          time.Duration // between samples
	seen           bool          // allHealthyLine was printed
	err            error
	sampling       sync.WaitGroup
}

// watchMemory takes the baseline of m; with m nil, it measures nothing.
func watchMemory(m *engineMemory) *memoryWatch {
	w := &memoryWatch{memory: m, every: memoryEvery}
	if m != nil {
		w.baseline, w.err = m.kib()
	}
	return w
}

// onLine starts sampling, in the background, at the first allHealthyLine,
// so that the progress output keeps flowing. It is called from one goroutine.
func (w *memoryWatch) onLine(line string) {
	// seen first: once sampling runs, only it touches err.
	if w.seen || w.memory == nil || w.err != nil || !strings.Contains(line, allHealthyLine) {
		return
	}
	w.seen = true
	w.sampling.Go(func() { w.peak, w.err = w.memory.peakKiB(memorySamples, w.every) })
}

// result waits for the sampling and returns the engine's memory before the
// phase and its peak while the projects ran, in KiB.
func (w *memoryWatch) result() (before, peak int64, err error) {
	w.sampling.Wait()
	switch {
	case w.memory == nil:
		return 0, 0, errors.New("no engine process to read")
	case w.err != nil:
		return 0, 0, w.err
	case !w.seen:
		return 0, 0, fmt.Errorf("the phase did not print %q", allHealthyLine)
	}
	return w.baseline, w.peak, nil
}

func mib(kib int64) float64 { return float64(kib) / 1024 }
