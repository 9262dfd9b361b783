package scripts

import (
	"bytes"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The scripts run here as the module installs them,
// /usr/local/bin/commandcenter-<name>, found through PATH, under the
// machine's /bin/sh, or under the shell that COMMANDCENTER_TEST_SHELL names
// (busybox, bash: .ci/run runs the tests once under each): the sandbox
// installs it as its own sh, first in PATH, and the scripts' #!/bin/sh
// names that sh instead.

const secretValue = `p@ss:w/rd"\x 42`

type sandbox struct {
	t    *testing.T
	dir  string
	bin  string // the installed scripts and fake programs
	logs string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	dir := t.TempDir()
	s := &sandbox{t: t, dir: dir, bin: filepath.Join(dir, "bin"), logs: filepath.Join(dir, "logs")}
	for _, d := range []string{s.bin, s.logs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	shebang := "#!/bin/sh\n"
	if shell := os.Getenv("COMMANDCENTER_TEST_SHELL"); shell != "" {
		if err := os.Symlink(shell, filepath.Join(s.bin, "sh")); err != nil {
			t.Fatal(err)
		}
		shebang = "#!" + filepath.Join(s.bin, "sh") + "\n"
	}
	for _, sc := range Named(allNames(t)...) {
		s.write(filepath.Join(s.bin, "commandcenter-"+sc.Name), underShell(sc.Contents, shebang), 0o755)
	}
	return s
}

// underShell gives a shell script the shebang; other scripts keep theirs.
func underShell(contents, shebang string) string {
	if rest, ok := strings.CutPrefix(contents, "#!/bin/sh\n"); ok {
		return shebang + rest
	}
	return contents
}

func (s *sandbox) write(path, contents string, mode os.FileMode) string {
	s.t.Helper()
	if err := os.WriteFile(path, []byte(contents), mode); err != nil {
		s.t.Fatal(err)
	}
	return path
}

// fake installs a program that records its argv and environment.
func (s *sandbox) fake(name string) {
	s.write(filepath.Join(s.bin, name), `#!/bin/sh
printf '%s\n' "$@" > "$FAKE_OUT/`+name+`.argv"
env > "$FAKE_OUT/`+name+`.env"
cat > "$FAKE_OUT/`+name+`.stdin"
`, 0o755)
}

func (s *sandbox) read(name string) string {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		s.t.Fatal(err)
	}
	return string(b)
}

func (s *sandbox) command(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, "commandcenter-"+args[0]), args[1:]...)
	cmd.Env = append([]string{
		"PATH=" + s.bin + ":/usr/bin:/bin",
		"FAKE_OUT=" + s.dir,
		"COMMANDCENTER_LOG_DIR=" + s.logs,
	}, env...)
	return cmd
}

func (s *sandbox) run(env []string, args ...string) (stdout, stderr string, err error) {
	cmd := s.command(env, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// logWait bounds a wait for a log line: only a hang reaches it, so a busy
// machine does not fail a test that would pass.
const logWait = 30 * time.Second

// waitForLog polls the log until it contains want: the copiers finish
// writing just after the command exits.
func (s *sandbox) waitForLog(name, want string) string {
	s.t.Helper()
	var got string
	for deadline := time.Now().Add(logWait); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(filepath.Join(s.logs, name+".log"))
		if got = string(b); strings.Contains(got, want) {
			return got
		}
	}
	s.t.Fatalf("log %s = %q, want it to contain %q", name, got, want)
	return ""
}

func TestRunCopiesOutputToLog(t *testing.T) {
	s := newSandbox(t)
	stdout, stderr, err := s.run(nil, "run", "web", "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3")
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 3 {
		t.Fatalf("run exited with %v, want the command's exit code 3", err)
	}
	if !strings.Contains(stdout, "to-stdout") || strings.Contains(stdout, "to-stderr") {
		t.Errorf("stdout = %q, want only the command's stdout", stdout)
	}
	if !strings.Contains(stderr, "to-stderr") {
		t.Errorf("stderr = %q, want the command's stderr", stderr)
	}
	log := s.waitForLog("web", "to-stderr")
	uid := strconv.Itoa(os.Getuid())
	for _, want := range []string{"[commandcenter] web starting as uid=" + uid, "to-stdout"} {
		if !strings.Contains(log, want) {
			t.Errorf("log = %q, want it to contain %q", log, want)
		}
	}
}

func TestRunAppendsAcrossStarts(t *testing.T) {
	s := newSandbox(t)
	for _, word := range []string{"first", "second"} {
		if _, _, err := s.run(nil, "run", "web", "echo", word); err != nil {
			t.Fatal(err)
		}
		s.waitForLog("web", word)
	}
	if log := s.waitForLog("web", "second"); !strings.Contains(log, "first") {
		t.Errorf("log = %q, want both starts", log)
	}
}

// TestRunLogsTheLastLineBeforeExiting kills whatever is left of the
// launcher's process group the moment it exits, as the end of a container
// does: a service that crashes at start must still leave its last words in
// the log.
func TestRunLogsTheLastLineBeforeExiting(t *testing.T) {
	s := newSandbox(t)
	for i := range 20 {
		word := "last-words-" + strconv.Itoa(i)
		cmd := s.command(nil, "run", "web", "sh", "-c", "echo "+word+" >&2; exit 1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		err := cmd.Run()
		_ = killContainer(cmd.Process.Pid)
		if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 {
			t.Fatalf("run ended with %v, want the command's exit status 1", err)
		}
		if log := s.read("logs/web.log"); !strings.Contains(log, word) {
			t.Fatalf("log right after run exited = %q, want %q", log, word)
		}
	}
}

// TestRunPassesOnSignals signals the launcher alone: the command must get it.
func TestRunPassesOnSignals(t *testing.T) {
	s := newSandbox(t)
	cmd := s.command(nil, "run", "web", "sh", "-c",
		`trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done`)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.waitForLog("web", "ready")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 7 {
		t.Fatalf("run ended with %v, want the command's exit status 7", err)
	}
	if log := s.read("logs/web.log"); !strings.Contains(log, "got-term") {
		t.Errorf("log = %q, want the command's answer to TERM", log)
	}
}

// TestRunLogsSurviveStopSignal signals the whole process group, as the
// engine's init does on stop: the command's last words must reach the log.
func TestRunLogsSurviveStopSignal(t *testing.T) {
	s := newSandbox(t)
	cmd := s.command(nil, "run", "web", "sh", "-c",
		`trap 'sleep 0.2; echo stopped-cleanly; exit 0' TERM; echo ready; while :; do sleep 0.05; done`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.waitForLog("web", "ready")
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("command ended with %v, want a clean exit after its TERM trap", err)
	}
	if log := s.read("logs/web.log"); !strings.Contains(log, "stopped-cleanly") {
		t.Errorf("log = %q, want the command's last line", log)
	}
}

func TestRunRotatesLargeLog(t *testing.T) {
	s := newSandbox(t)
	s.write(filepath.Join(s.logs, "web.log"), strings.Repeat("old line\n", 10), 0o644)
	if _, _, err := s.run([]string{"COMMANDCENTER_LOG_MAX_BYTES=50"}, "run", "web", "echo", "new"); err != nil {
		t.Fatal(err)
	}
	log := s.waitForLog("web", "new")
	if strings.Contains(log, "old line") {
		t.Errorf("log = %q, want the old lines rotated out", log)
	}
	if old := s.read("logs/web.log.1"); strings.Count(old, "old line") != 10 {
		t.Errorf("web.log.1 = %q, want the 10 old lines", old)
	}
}

func TestRunNeedsLogDir(t *testing.T) {
	s := newSandbox(t)
	_, stderr, err := s.run([]string{"COMMANDCENTER_LOG_DIR="}, "run", "web", "true")
	if err == nil || !strings.Contains(stderr, "COMMANDCENTER_LOG_DIR is not set") {
		t.Errorf("run without a log dir = %v, %q; want a clear failure", err, stderr)
	}
}

func TestSecretIsGeneratedOnce(t *testing.T) {
	s := newSandbox(t)
	file := filepath.Join(s.dir, "key")
	stdout, stderr, err := s.run(nil, "secret", file, "0440")
	if err != nil || stdout != "" || stderr != "" {
		t.Fatalf("secret = %v, stdout %q, stderr %q; want silent success", err, stdout, stderr)
	}
	first := s.read("key")
	if !regexp.MustCompile(`^[A-Za-z0-9]{40}$`).MatchString(first) {
		t.Errorf("generated value %q, want 40 letters and digits", first)
	}
	info, err := os.Stat(file)
	if err != nil || info.Mode().Perm() != 0o440 {
		t.Errorf("mode = %v, %v; want 0440", info.Mode().Perm(), err)
	}
	if _, _, err := s.run(nil, "secret", file, "0440"); err != nil {
		t.Fatal(err)
	}
	if again := s.read("key"); again != first {
		t.Error("a second run replaced the existing secret")
	}
	other := filepath.Join(s.dir, "other")
	if _, _, err := s.run(nil, "secret", other, "0400"); err != nil {
		t.Fatal(err)
	}
	if s.read("other") == first {
		t.Error("two generated secrets are equal")
	}
}

func TestPostgresNeverExportsThePassword(t *testing.T) {
	s := newSandbox(t)
	s.fake("docker-ensure-initdb.sh")
	s.fake("postgres")
	pwfile := s.write(filepath.Join(s.dir, "pw"), secretValue+"\n", 0o400)
	if _, _, err := s.run(s.pgEnv("POSTGRES_PASSWORD_FILE="+pwfile), "postgres", "-c", "max_connections=10"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("-c\nmax_connections=10\n", s.read("postgres.argv")); diff != "" {
		t.Errorf("server argv mismatch (-want +got):\n%s", diff)
	}
	for _, f := range []string{"postgres.env", "postgres.argv", "docker-ensure-initdb.sh.env"} {
		if got := s.read(f); strings.Contains(got, "p@ss") {
			t.Errorf("%s contains the password:\n%s", f, got)
		}
	}
	if env := s.read("docker-ensure-initdb.sh.env"); !strings.Contains(env, "POSTGRES_PASSWORD_FILE="+pwfile) {
		t.Errorf("initdb env lacks POSTGRES_PASSWORD_FILE:\n%s", env)
	}
}

func TestPostgresGeneratesAMissingPassword(t *testing.T) {
	s := newSandbox(t)
	s.fake("docker-ensure-initdb.sh")
	s.fake("postgres")
	pwfile := filepath.Join(s.dir, "generated", "db-password")
	if err := os.Mkdir(filepath.Dir(pwfile), 0o755); err != nil {
		t.Fatal(err)
	}
	env := s.pgEnv("POSTGRES_PASSWORD_FILE="+pwfile, "COMMANDCENTER_GENERATE_DB_PASSWORD=1")
	if _, _, err := s.run(env, "postgres"); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(pwfile)
	if err != nil || info.Mode().Perm() != 0o444 || info.Size() != 40 {
		t.Fatalf("generated password file: %v, %v; want 40 bytes, mode 0444 (read by the backend's user)", info, err)
	}
	if got := s.read("postgres.env"); strings.Contains(got, s.read("generated/db-password")) {
		t.Error("the server's environment contains the generated password")
	}
}

// The password goes to the configuration on stdin, and every write to the
// append-only file.
func TestRedisPasswordGoesToConfigOnStdin(t *testing.T) {
	s := newSandbox(t)
	s.fake("redis-server")
	pwfile := s.write(filepath.Join(s.dir, "redis-pw"), secretValue+"\n", 0o400)
	if _, _, err := s.run([]string{"REDIS_PASSWORD_FILE=" + pwfile}, "redis", "--maxmemory", "256mb"); err != nil {
		t.Fatal(err)
	}
	want := "dir /data\nappendonly yes\nappendfsync everysec\nprotected-mode no\nrequirepass \"p@ss:w/rd\\\"\\\\x 42\"\n"
	if diff := cmp.Diff(want, s.read("redis-server.stdin")); diff != "" {
		t.Errorf("configuration mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("-\n--maxmemory\n256mb\n", s.read("redis-server.argv")); diff != "" {
		t.Errorf("server argv mismatch (-want +got):\n%s", diff)
	}
	if env := s.read("redis-server.env"); strings.Contains(env, "p@ss") {
		t.Errorf("server environment contains the password:\n%s", env)
	}
}

func TestRedisGeneratesAMissingPassword(t *testing.T) {
	s := newSandbox(t)
	s.fake("redis-server")
	pwfile := filepath.Join(s.dir, "generated", "redis-password")
	if err := os.Mkdir(filepath.Dir(pwfile), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"REDIS_PASSWORD_FILE=" + pwfile, "COMMANDCENTER_GENERATE_REDIS_PASSWORD=1"}
	if _, _, err := s.run(env, "redis"); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(pwfile)
	if err != nil || info.Mode().Perm() != 0o444 || info.Size() != 40 {
		t.Fatalf("generated password file: %v, %v; want 40 bytes, mode 0444 (read by the backend's user)", info, err)
	}
	password := s.read("generated/redis-password")
	if got := s.read("redis-server.stdin"); !strings.Contains(got, `requirepass "`+password+`"`) {
		t.Errorf("configuration = %q, want requirepass with the generated password", got)
	}
	for _, f := range []string{"redis-server.env", "redis-server.argv"} {
		if strings.Contains(s.read(f), password) {
			t.Errorf("%s holds the generated password", f)
		}
	}
}

func backendEnv(s *sandbox, extra ...string) []string {
	return append([]string{
		"DB_USER=commandcenter", "DB_HOST=postgres", "DB_PORT=5432", "DB_NAME=commandcenter",
		"DB_PASSWORD_FILE=" + s.write(filepath.Join(s.dir, "db-pw"), secretValue+"\n", 0o400),
		"REDIS_HOST=redis", "REDIS_PORT=6379",
	}, extra...)
}

func TestBackendEnvBuildsURLs(t *testing.T) {
	s := newSandbox(t)
	env := backendEnv(s,
		"REDIS_PASSWORD_FILE="+s.write(filepath.Join(s.dir, "redis-pw"), "r3dis pw", 0o400),
		"SECRET_KEY_FILE="+s.write(filepath.Join(s.dir, "key"), "the-key\n", 0o400))
	stdout, stderr, err := s.run(env, "backend-env", "sh", "-c", `printf '%s\n' "$DATABASE_URL" "$REDIS_URL" "$SECRET_KEY" "$CELERY_BROKER_URL" "$CELERY_RESULT_BACKEND"`)
	if err != nil || stderr != "" {
		t.Fatalf("backend-env = %v, stderr %q", err, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	want := []string{
		"postgresql://commandcenter:p%40ss%3Aw%2Frd%22%5Cx%2042@postgres:5432/commandcenter",
		"redis://default:r3dis%20pw@redis:6379/0",
		"the-key",
		"redis://default:r3dis%20pw@redis:6379/0",
		"redis://default:r3dis%20pw@redis:6379/0",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("exported values mismatch (-want +got):\n%s", diff)
	}
	u, err := url.Parse(lines[0])
	if err != nil {
		t.Fatal(err)
	}
	if pw, _ := u.User.Password(); pw != secretValue {
		t.Errorf("DATABASE_URL password decodes to %q, want %q", pw, secretValue)
	}
}

func TestBackendEnvWithoutRedisPasswordAndGeneratedKey(t *testing.T) {
	s := newSandbox(t)
	key := filepath.Join(s.dir, "state", "secret-key")
	if err := os.Mkdir(filepath.Dir(key), 0o755); err != nil {
		t.Fatal(err)
	}
	env := backendEnv(s, "SECRET_KEY_FILE="+key, "COMMANDCENTER_GENERATE_SECRET_KEY=1", "REDIS_PASSWORD_FILE=")
	stdout, _, err := s.run(env, "backend-env", "sh", "-c", `printf '%s\n' "$REDIS_URL" "$SECRET_KEY"`)
	if err != nil {
		t.Fatal(err)
	}
	generated := s.read("state/secret-key")
	if diff := cmp.Diff("redis://redis:6379/0\n"+generated+"\n", stdout); diff != "" {
		t.Errorf("exported values mismatch (-want +got):\n%s", diff)
	}
	if info, _ := os.Stat(key); info.Mode().Perm() != 0o400 {
		t.Errorf("secret key mode %v, want 0400", info.Mode().Perm())
	}
}

// allNames lists the name of every embedded script.
func allNames(t *testing.T) []string {
	t.Helper()
	entries, err := files.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = strings.TrimSuffix(strings.TrimSuffix(e.Name(), ".sh"), ".py")
	}
	return names
}

func TestURL(t *testing.T) {
	s := newSandbox(t)
	pw := s.write(filepath.Join(s.dir, "pw"), secretValue+"\n", 0o400)
	env := []string{"DB_USER=commandcenter", "DB_NAME=commandcenter"}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"postgres", "localhost", "15432", pw}, "postgresql://commandcenter:p%40ss%3Aw%2Frd%22%5Cx%2042@localhost:15432/commandcenter\n"},
		{[]string{"redis", "db.internal", "6379", pw}, "redis://default:p%40ss%3Aw%2Frd%22%5Cx%2042@db.internal:6379/0\n"},
		{[]string{"redis", "redis", "6379", ""}, "redis://redis:6379/0\n"},
	}
	for _, tt := range tests {
		stdout, stderr, err := s.run(env, append([]string{"url"}, tt.args...)...)
		if err != nil || stderr != "" {
			t.Fatalf("url %q = %v, stderr %q", tt.args, err, stderr)
		}
		if diff := cmp.Diff(tt.want, stdout); diff != "" {
			t.Errorf("url %q mismatch (-want +got):\n%s", tt.args, diff)
		}
	}
}

// killContainer kills the supervisor pid and every process it started, as
// the end of a service's container kills everything in it: the server runs
// in a process group of its own, so killing the supervisor's group alone
// would leave it running.
func killContainer(pid int) error {
	parents := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut after ")".
		rest := string(stat[bytes.LastIndexByte(stat, ')')+2:])
		if f := strings.Fields(rest); len(f) > 1 {
			parents[p], _ = strconv.Atoi(f[1])
		}
	}
	var below func(int) []int
	below = func(root int) []int {
		out := []int{root}
		for p, pp := range parents {
			if pp == root {
				out = append(out, below(p)...)
			}
		}
		return out
	}
	all := below(pid)
	for _, p := range all[1:] {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	return syscall.Kill(-pid, syscall.SIGKILL)
}
