package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// fakeProc is a process of a fake /proc tree: its parent, its name and its
// smaps_rollup ("" for none, as a process that exited meanwhile).
type fakeProc struct {
	ppid   int
	comm   string
	smaps  string
	noStat bool // the process exited before its stat was read
}

// pss is the smaps_rollup of a process with the given PSS.
func pss(kib int) string {
	return "00400000-7ffd150ac000 ---p 00000000 00:00 0   [rollup]\nRss:  999 kB\nPss:  " +
		strconv.Itoa(kib) + " kB\nPss_Dirty:  7 kB\nPss_Anon:  5 kB\n"
}

// writeProc writes a fake /proc tree into a temporary directory and returns its root.
func writeProc(t *testing.T, procs map[int]fakeProc) string {
	t.Helper()
	root := t.TempDir()
	write := func(pid int, name, data string) {
		dir := filepath.Join(root, strconv.Itoa(pid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for pid, p := range procs {
		if !p.noStat {
			write(pid, "stat", strconv.Itoa(pid)+" ("+p.comm+") S "+strconv.Itoa(p.ppid)+" 1 1 0 -1 4194560\n")
		}
		if p.smaps != "" {
			write(pid, "smaps_rollup", p.smaps)
		}
	}
	// Entries that are not processes.
	write(0, "ignored", "")
	if err := os.WriteFile(filepath.Join(root, "meminfo"), []byte("MemTotal: 1 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// engineTree is an engine (10) with a dnsmasq, a runc whose container runs
// postgres with a child, a kernel-thread-like child without memory and two
// that exited while /proc was read; beside it, an unrelated process and the
// engine's parent.
var engineTree = map[int]fakeProc{
	1:   {ppid: 0, comm: "tini", smaps: pss(1000)},
	10:  {ppid: 1, comm: "dagger-engine", smaps: pss(200000)},
	11:  {ppid: 10, comm: "dnsmasq", smaps: pss(300)},
	12:  {ppid: 10, comm: "runc", smaps: pss(4000)},
	13:  {ppid: 12, comm: "postgres", smaps: pss(20000)},
	14:  {ppid: 13, comm: "postgres: walwriter", smaps: pss(1500)},
	15:  {ppid: 10, comm: "kworker", smaps: "00400000-7ffd150ac000 ---p 00000000 00:00 0   [rollup]\n"},
	16:  {ppid: 10, comm: "exited"},
	17:  {ppid: 10, comm: "gone", noStat: true, smaps: pss(50)},
	200: {ppid: 1, comm: "sshd", smaps: pss(9999)},
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		stat    string
		want    process
		wantErr bool
	}{
		{"11428 (dagger-engine) S 11416 11428 11413 0 -1", process{ppid: 11416, comm: "dagger-engine"}, false},
		{"7 (a (b) c) R 3 7 7", process{ppid: 3, comm: "a (b) c"}, false},
		{"7 no comm S 3", process{}, true},
		{"7 (x) S", process{}, true},
		{"7 (x) S ppid", process{}, true},
	}
	for _, tt := range tests {
		got, err := parseStat([]byte(tt.stat))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseStat(%q) = %+v, %v; want %+v, error %v", tt.stat, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDescendants(t *testing.T) {
	tree, err := readTree(writeProc(t, engineTree))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		pid  int
		want []int
	}{
		{10, []int{10, 11, 12, 13, 14, 15, 16}},
		{12, []int{12, 13, 14}},
		{200, []int{200}},
		{1, []int{1, 10, 11, 12, 13, 14, 15, 16, 200}},
	}
	for _, tt := range tests {
		if got := descendants(tree, tt.pid); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("descendants(%d) = %v, want %v", tt.pid, got, tt.want)
		}
	}
}

func TestEngineMemoryKiB(t *testing.T) {
	root := writeProc(t, engineTree)
	tests := []struct {
		pid     int
		want    int64
		wantErr string
	}{
		// The engine and everything under it; not its parent, nor sshd.
		{10, 200000 + 300 + 4000 + 20000 + 1500, ""},
		{12, 4000 + 20000 + 1500, ""},
		{99, 0, "no process 99"},
	}
	for _, tt := range tests {
		got, err := engineMemory{proc: root, pid: tt.pid}.kib()
		if got != tt.want || !errorContains(err, tt.wantErr) {
			t.Errorf("kib() of %d = %d, %v; want %d, error %q", tt.pid, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestPSSKiBRejectsABadLine(t *testing.T) {
	root := writeProc(t, map[int]fakeProc{5: {ppid: 1, comm: "x", smaps: "Pss:  many kB\n"}})
	if _, err := pssKiB(root, 5); err == nil {
		t.Error("pssKiB of a Pss line without a number: wanted an error, got none")
	}
}

func TestFindEngine(t *testing.T) {
	tests := []struct {
		name    string
		procs   map[int]fakeProc
		want    int
		wantErr string
	}{
		{"the engine", engineTree, 10, ""},
		{"an engine process under the engine is not another engine", map[int]fakeProc{
			10: {ppid: 1, comm: "dagger-engine"}, 11: {ppid: 10, comm: "runc"}, 12: {ppid: 11, comm: "dagger-engine"},
		}, 10, ""},
		{"none", map[int]fakeProc{1: {comm: "init"}, 2: {ppid: 1, comm: "dagger"}}, 0, "no dagger-engine process"},
		{"two engines", map[int]fakeProc{
			10: {ppid: 1, comm: "dagger-engine"}, 20: {ppid: 1, comm: "dagger-engine"},
		}, 0, "2 dagger-engine processes ([10 20]): pass -engine-pid"},
	}
	for _, tt := range tests {
		got, err := findEngine(writeProc(t, tt.procs))
		if got != tt.want || !errorContains(err, tt.wantErr) {
			t.Errorf("%s: findEngine() = %d, %v; want %d, error %q", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestLocateEngine(t *testing.T) {
	root := writeProc(t, engineTree)
	tests := []struct {
		pid      int
		wantPID  int // 0: not measured
		wantNote string
	}{
		{0, 10, "the PSS of the engine (pid 10)"},
		{12, 12, "the PSS of the engine (pid 12)"},
		{99, 0, "not measured: no process 99"},
	}
	for _, tt := range tests {
		m, note := locateEngine(root, tt.pid)
		gotPID := 0
		if m != nil {
			gotPID = m.pid
		}
		if gotPID != tt.wantPID || !strings.HasPrefix(note, tt.wantNote) {
			t.Errorf("locateEngine(%d) = pid %d, %q; want pid %d, %q…", tt.pid, gotPID, note, tt.wantPID, tt.wantNote)
		}
	}
	if m, note := locateEngine(writeProc(t, map[int]fakeProc{1: {comm: "init"}}), 0); m != nil || !strings.HasPrefix(note, "not measured: no dagger-engine process") {
		t.Errorf("locateEngine without an engine = %v, %q; want nil, not measured", m, note)
	}
}

func TestMemoryWatch(t *testing.T) {
	root := writeProc(t, engineTree)
	tests := []struct {
		name       string
		memory     *engineMemory
		lines      []string
		wantBefore int64
		wantErr    string
	}{
		{"sampled at the line", &engineMemory{proc: root, pid: 12}, []string{"12 : ┆ starting", "40  : ┆ [3.1s] | " + allHealthyLine, allHealthyLine}, 25500, ""},
		{"no line", &engineMemory{proc: root, pid: 12}, []string{"12 : ┆ starting"}, 0, "did not print"},
		{"no engine", nil, []string{allHealthyLine}, 0, "no engine process"},
	}
	for _, tt := range tests {
		w := watchMemory(tt.memory)
		w.every = 0
		for _, line := range tt.lines {
			w.onLine(line)
		}
		before, peak, err := w.result()
		if before != tt.wantBefore || peak != tt.wantBefore || !errorContains(err, tt.wantErr) {
			t.Errorf("%s: result() = %d, %d, %v; want %d twice, error %q", tt.name, before, peak, err, tt.wantBefore, tt.wantErr)
		}
	}
}

// errorContains says whether err holds want, or is nil when want is "".
func errorContains(err error, want string) bool {
	if want == "" {
		return err == nil
	}
	return err != nil && strings.Contains(err.Error(), want)
}
