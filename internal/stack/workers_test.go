package stack

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseProcfile(t *testing.T) {
	text := `# CommandCenter's background work
web: uvicorn app.main:app --port $PORT
worker: celery -A app.tasks worker --loglevel=info --concurrency=4

beat:celery -A app.tasks beat --schedule=/var/lib/commandcenter/beat,with-comma
release: alembic upgrade head
`
	got, err := ParseProcfile("backend/Procfile", text)
	if err != nil {
		t.Fatal(err)
	}
	want := []Worker{
		{Name: "worker", Command: "celery -A app.tasks worker --loglevel=info --concurrency=4"},
		{Name: "beat", Command: "celery -A app.tasks beat --schedule=/var/lib/commandcenter/beat,with-comma"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseProcfile (-want +got):\n%s", diff)
	}
}

func TestParseProcfileRefuses(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"worker:\n", `backend/Procfile line 1: worker "worker" has no command`},
		{"a: x\na: y\n", `backend/Procfile line 2: worker "a" is declared twice`},
		{"Celery_Worker: celery\n", `worker "Celery_Worker": the name is not a DNS label`},
		{"redis: redis-server\n", `worker "redis": the name is a service of the stack`},
		{"just a command\n", "backend/Procfile line 1 is not NAME: COMMAND"},
	} {
		_, err := ParseProcfile("backend/Procfile", tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseProcfile(%q) = %v, want an error with %q", tc.text, err, tc.want)
		}
	}
}

func TestWorkersAreServices(t *testing.T) {
	c := validConfig()
	c.Workers = []Worker{{Name: "worker", Command: "celery -A app.tasks worker"}}
	if diff := cmp.Diff([]Service{Postgres, Redis, Backend, "worker", Frontend, Proxy}, c.Logged()); diff != "" {
		t.Errorf("Logged() (-want +got):\n%s", diff)
	}
	want := []string{Script("run"), "worker", Script("backend-env"), Script("app"), "--", "sh", "-c", "celery -A app.tasks worker"}
	if diff := cmp.Diff(want, c.Command("worker")); diff != "" {
		t.Errorf("Command(worker) (-want +got):\n%s", diff)
	}
	if User("worker") != User(Backend) {
		t.Errorf("User(worker) = %s, want the backend's %s", User("worker"), User(Backend))
	}
	env := c.Env("worker", Given{}.SecretFiles())
	for _, name := range []string{"DB_PASSWORD_FILE", "REDIS_PASSWORD_FILE", "SECRET_KEY_FILE", "COMMANDCENTER_WORKER"} {
		if !slices.ContainsFunc(env, func(e EnvVar) bool { return e.Name == name }) {
			t.Errorf("Env(worker) = %v, want %s", env, name)
		}
	}
	if slices.ContainsFunc(c.Env(Backend, Given{}.SecretFiles()), func(e EnvVar) bool { return e.Name == "COMMANDCENTER_WORKER" }) {
		t.Error("Env(backend) has COMMANDCENTER_WORKER: the backend is not restarted by its supervisor")
	}
	if got := c.HealthCheck("worker"); len(got) == 0 || got[0] != Script("alive") {
		t.Errorf("HealthCheck(worker) = %v, want commandcenter-alive", got)
	}
}

func TestProcfileProbes(t *testing.T) {
	text := `# commandcenter-probe worker: celery -A app.tasks inspect ping -t 5
worker: celery -A app.tasks worker
beat: celery -A app.tasks beat
`
	got, err := ParseProcfile("backend/Procfile", text)
	if err != nil {
		t.Fatal(err)
	}
	want := []Worker{
		{Name: "worker", Command: "celery -A app.tasks worker", Probe: "celery -A app.tasks inspect ping -t 5"},
		{Name: "beat", Command: "celery -A app.tasks beat"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseProcfile (-want +got):\n%s", diff)
	}
	c := validConfig()
	c.Workers = got
	wantCommand := []string{Script("run"), "worker", Script("backend-env"), Script("app"), "--",
		Script("worker-probe"), "worker", "celery -A app.tasks inspect ping -t 5", "sh", "-c", "celery -A app.tasks worker"}
	if diff := cmp.Diff(wantCommand, c.Command("worker")); diff != "" {
		t.Errorf("Command(worker) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{Script("alive"), "worker", "3", "probe"}, c.HealthCheck("worker")); diff != "" {
		t.Errorf("HealthCheck(worker) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{Script("alive"), "beat", "3"}, c.HealthCheck("beat")); diff != "" {
		t.Errorf("HealthCheck(beat) (-want +got):\n%s", diff)
	}
}

func TestProcfileProbesRefused(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"# commandcenter-probe other: true\nworker: celery\n", `line 1: a probe for "other", which is no worker`},
		{"# commandcenter-probe worker:\nworker: celery\n", `line 1: the probe of "worker" has no command`},
		{"# commandcenter-probe worker: a\n# commandcenter-probe worker: b\nworker: celery\n", `line 2: the probe of "worker" is given twice (line 1)`},
		{"# commandcenter-probe just words\nworker: celery\n", "line 1: write the probe as # commandcenter-probe NAME: COMMAND"},
	} {
		_, err := ParseProcfile("backend/Procfile", tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseProcfile(%q) = %v, want an error with %q", tc.text, err, tc.want)
		}
	}
}

func TestWorkerProbeReadsTheProbesResult(t *testing.T) {
	for _, tc := range []struct {
		name, probe, want string
		ok                bool
	}{
		{"no probe", "", "its process runs since T0", true},
		{"passing", "pid=7\ninstance=i1\nstate=passing\nat=T1\nmessage=pong\n", "its process runs since T0; its probe passed at T1", true},
		{"failing", "pid=7\ninstance=i1\nstate=failing\nat=T1\nmessage=Error: No nodes replied within time constraint\n",
			"its probe fails (at T1): Error: No nodes replied within time constraint", false},
		{"another process's", "pid=6\ninstance=i1\nstate=failing\nat=T1\nmessage=old\n", "its process runs since T0", true},
		{"another instance's", "pid=7\ninstance=i0\nstate=failing\nat=T1\nmessage=old\n", "its process runs since T0", true},
	} {
		dir := t.TempDir()
		files := map[string]string{"worker.run": "instance=i1\nstate=running\nsince=T0\n", "worker.child": "pid=7\nat_ms=1\n", "worker.probe": tc.probe}
		for name, text := range files {
			if text != "" {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}
		cmd := exec.Command("sh", "-c", WorkerProbe("worker"))
		cmd.Env = []string{"COMMANDCENTER_LOG_DIR=" + dir, "PATH=/usr/bin:/bin"}
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		got := strings.TrimSpace(out.String() + errb.String())
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%s: WorkerProbe = %q, %v; want %q, ok %v", tc.name, got, err, tc.want, tc.ok)
		}
	}
}
