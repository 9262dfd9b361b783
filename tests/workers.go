package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"dagger/tests/internal/dagger"
)

// A monorepo shaped like CommandCenter: a backend whose requirements name
// -e ../libs/kb, a Celery worker and beat in its Procfile. Its packages come
// from the lab's PyPI mirror, so the tests that install them are skipped
// where it does not answer.

// monorepo is testdata/monorepo with the offline fixture's frontend, for
// project, installing from the lab's PyPI mirror at gateway.
func monorepo(project, gateway string) dagger.CommandcenterOpts {
	app := dag.CurrentModule().Source().Directory("testdata/app")
	src := dag.CurrentModule().Source().Directory("testdata/monorepo").
		WithDirectory("frontend", app.Directory("frontend"))
	opts := withPasswords(fixture(project))
	opts.Source = src
	opts.PipIndexURL = dag.SetSecret("monorepo-pip-index", pipMirror(gateway))
	return opts
}

// A task the backend queues is run by the Celery worker, beat's schedule fires, and the worker is a service: in status, logs, and restarted from elsewhere.
//
// +check
func (m *Tests) WorkersRunQueuedAndScheduledTasks(ctx context.Context) error {
	gateway, err := needMirrors(ctx, "WorkersRunQueuedAndScheduledTasks")
	if err != nil {
		return err
	}
	return withStack(ctx, monorepo("workers", gateway), func(cc *dagger.Commandcenter) error {
		if err := taskRuns(ctx, cc, "first-"+nonce()); err != nil {
			return err
		}
		if err := beatTicks(ctx, cc); err != nil {
			return err
		}
		if err := workersInStatus(ctx, cc); err != nil {
			return err
		}
		logs, err := serviceLogs(ctx, cc, "worker", 10000)
		if err != nil || !strings.Contains(logs, "ready.") {
			return fmt.Errorf("logs --service worker: wanted Celery's \"ready.\" line, got %v:\n%s", err, logs)
		}
		// Another client of the module, as another terminal is.
		out, err := dag.Commandcenter(monorepo("workers", gateway)).Restart(ctx, "worker")
		if err != nil || !strings.Contains(out, "worker: restarted in place") {
			return fmt.Errorf("restart --service worker: wanted it restarted in place, got %q, %v", out, err)
		}
		return taskRuns(ctx, cc, "after-restart-"+nonce())
	})
}

// taskRuns queues app.tasks.write(key) through the backend and waits for
// the worker to write done:key in Redis.
func taskRuns(ctx context.Context, cc *dagger.Commandcenter, key string) error {
	if _, err := httpGet(ctx, cc.Backend(), "backend", 8000, "/enqueue?key="+key); err != nil {
		return fmt.Errorf("queue a task: %w", err)
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if v, err := redisValue(ctx, cc, "done:"+key); err == nil && v == "1" {
			return nil
		}
	}
	return fmt.Errorf("the task queued with key %s did not run within 60 s", key)
}

// beatTicks checks that beat's one-second schedule fires: the ticks grow
// within 5 s.
func beatTicks(ctx context.Context, cc *dagger.Commandcenter) error {
	first, err := redisValue(ctx, cc, "ticks")
	if err != nil {
		return err
	}
	time.Sleep(5 * time.Second)
	second, err := redisValue(ctx, cc, "ticks")
	if err != nil {
		return err
	}
	if second == "" || second == first {
		return fmt.Errorf("beat: wanted the ticks to grow within 5 s, got %q then %q", first, second)
	}
	return nil
}

// redisValue reads a key through the backend's /value.
func redisValue(ctx context.Context, cc *dagger.Commandcenter, key string) (string, error) {
	body, err := httpGet(ctx, cc.Backend(), "backend", 8000, "/value?key="+key)
	if err != nil {
		return "", err
	}
	var v struct{ Value string }
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return "", fmt.Errorf("GET /value: wanted JSON, got %q", body)
	}
	return v.Value, nil
}

func workersInStatus(ctx context.Context, cc *dagger.Commandcenter) error {
	st, out, err := readStatus(ctx, cc)
	if err != nil {
		return err
	}
	for _, want := range []string{"worker", "beat"} {
		found := false
		for _, s := range st.Services {
			found = found || (s.Service == want && s.State == "running" && s.Healthy)
		}
		if !found {
			return fmt.Errorf("status: wanted %s running and healthy, got:\n%s", want, out)
		}
	}
	// The worker's probe (celery inspect ping, in its Procfile) ran and passed.
	for _, s := range st.Services {
		if s.Service == "worker" && !strings.Contains(s.Message, "its probe passed at") {
			return fmt.Errorf("status: wanted the worker's probe passed, got %q", s.Message)
		}
	}
	return nil
}

// The backend installs -e ../libs/kb from beside it; an edit of the backend's source re-runs no install, an edit of the library does, and a path outside the source is refused.
//
// +check
func (m *Tests) LocalLibraryInstallsOnItsContent(ctx context.Context) error {
	gateway, err := needMirrors(ctx, "LocalLibraryInstallsOnItsContent")
	if err != nil {
		return err
	}
	opts := monorepo("local-lib", gateway)
	installed := func(src *dagger.Directory) (string, error) {
		o := opts
		o.Source = src
		out, err := dag.Commandcenter(o).Container("backend").WithEnvVariable("NONCE", nonce()).
			WithExec([]string{"python3", "-c", "import kb, kb_stamp; print(kb.VERSION, kb_stamp.AT)"}).
			Stdout(ctx)
		return strings.TrimSpace(out), explain(err)
	}
	first, err := installed(opts.Source)
	if err != nil || !strings.HasPrefix(first, "1.0 ") {
		return fmt.Errorf("backend with -e ../libs/kb: wanted kb 1.0 installed, got %q, %v", first, err)
	}
	edited, err := installed(opts.Source.WithNewFile("backend/app/extra.py", "EDIT = "+nonce()+"\n"))
	if err != nil || edited != first {
		return fmt.Errorf("after an edit of the backend's source: wanted the same install %q, got %q, %v", first, edited, err)
	}
	lib, err := installed(opts.Source.WithNewFile("libs/kb/kb/extra.py", "EDIT = "+nonce()+"\n"))
	if err != nil || lib == first {
		return fmt.Errorf("after an edit of libs/kb: wanted the install to run again, got the same %q, %v", lib, err)
	}
	o := opts
	o.Source = opts.Source.WithNewFile("backend/requirements.txt", "-e ../../outside\n")
	_, err = dag.Commandcenter(o).Container("backend").Sync(ctx)
	if err == nil || !strings.Contains(err.Error(), "outside --source") {
		return fmt.Errorf("a requirement outside the source: wanted it refused naming --source, got %v", err)
	}
	return nil
}

// A worker that exits 1 at start fails the start with its stderr, without retry; one whose command does not exist fails it at once; a bad Procfile is refused before anything starts.
//
// +check
func (m *Tests) FailingWorkerFailsTheStart(ctx context.Context) error {
	gateway, err := needMirrors(ctx, "FailingWorkerFailsTheStart")
	if err != nil {
		return err
	}
	run := nonce()
	for _, tc := range []struct{ procfile, want string }{
		{"worker: echo broker " + run + " unreachable >&2; exit 1\n", "broker " + run + " unreachable"},
		{"worker: no-such-command-" + run + "\n", "no-such-command-" + run},
	} {
		opts := monorepo("worker-fails", gateway)
		opts.Source = opts.Source.WithNewFile("backend/Procfile", tc.procfile)
		cc := dag.Commandcenter(opts)
		begin := time.Now()
		_, err := cc.Start().Project(ctx)
		failed := workerStartFailed(err, tc.want, time.Since(begin))
		if err := errors.Join(failed, stop(ctx, cc)); err != nil {
			return fmt.Errorf("Procfile %q: %w", tc.procfile, err)
		}
	}
	opts := monorepo("worker-fails", gateway)
	opts.Source = opts.Source.WithNewFile("backend/Procfile", "worker: celery\nworker: celery beat\n")
	_, err = dag.Commandcenter(opts).Status(ctx)
	if err == nil || !strings.Contains(err.Error(), "backend/Procfile line 2") {
		return fmt.Errorf("a worker declared twice: wanted the Procfile's line refused, got %v", err)
	}
	return nil
}

// workerFailsWithin bounds the worker's own part of a failed start, which
// its error names ("start worker: gave up after 19s"): below the health
// check's start period (3 min), which a worker restarted in a loop, or
// retried, would wait for. startHangs only bounds the whole start, which
// starts postgres, redis and the backend first (about 4 min on the loaded
// lab engine, the module's compilation included).
const (
	workerFailsWithin = 2 * time.Minute
	startHangs        = 15 * time.Minute
)

var workerGaveUpAfter = regexp.MustCompile(`start worker: gave up after ([0-9hms.]+)`)

// workerStartFailed checks a start that a worker failed: its error has
// the worker's stderr (want), came at the first attempt and soon after
// the worker's start began.
func workerStartFailed(err error, want string, took time.Duration) error {
	if err == nil || !strings.Contains(err.Error(), "start worker") || !strings.Contains(err.Error(), want) {
		return fmt.Errorf("wanted the start to fail with %q, got %v", want, err)
	}
	// The retry loop's "failed 3 attempts" would say it was retried.
	if strings.Contains(err.Error(), "attempts") {
		return fmt.Errorf("wanted the start to fail at its first attempt, got %v", err)
	}
	m := workerGaveUpAfter.FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("wanted the error to say how long the worker's start took, got %v", err)
	}
	if d, perr := time.ParseDuration(m[1]); perr != nil || d > workerFailsWithin {
		return fmt.Errorf("the worker's start failed after %s, wanted within %s", m[1], workerFailsWithin)
	}
	if took > startHangs {
		return fmt.Errorf("the start failed after %s, wanted within %s", took, startHangs)
	}
	return nil
}

// A backend whose install fails is reported once, as the backend's: not again for the frontend that binds it, nor for its workers.
//
// +check
func (m *Tests) BackendInstallFailureIsReportedOnce(ctx context.Context) error {
	gateway, err := needMirrors(ctx, "BackendInstallFailureIsReportedOnce")
	if err != nil {
		return err
	}
	missing := "no-such-package-" + nonce()
	opts := monorepo("install-fails", gateway)
	opts.Source = opts.Source.WithNewFile("backend/requirements.txt", missing+"\n")
	cc := dag.Commandcenter(opts)
	_, err = cc.Start().Project(ctx)
	if err == nil {
		return errors.Join(errors.New("start with a requirement no index has: wanted it to fail"), stop(ctx, cc))
	}
	msg := err.Error()
	if !strings.Contains(msg, "build backend") || strings.Contains(msg, "build frontend") || strings.Contains(msg, "build worker") {
		return fmt.Errorf("a failed install: wanted it reported as the backend's build only, got %v", err)
	}
	if n := strings.Count(msg, "build backend"); n != 1 {
		return fmt.Errorf("a failed install: wanted it reported once, got %d times in %v", n, err)
	}
	return nil
}

// --backend-system-packages installs with the image's package manager before pip (jq, from the lab's apt mirror), and an unknown package fails the backend's build with apt's reason.
//
// +check
func (m *Tests) SystemPackagesReachTheBackend(ctx context.Context) error {
	opts := withPasswords(fixture("system-packages"))
	opts.BackendSystemPackages = []string{"jq"}
	out, err := dag.Commandcenter(opts).Container("backend").
		WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"sh", "-c", "id -u; jq --version"}).
		Stdout(ctx)
	if err != nil || !strings.Contains(out, "10001") || !strings.Contains(out, "jq-") {
		if strings.Contains(fmt.Sprint(explain(err)), "Unable to locate package jq") {
			return skip("SystemPackagesReachTheBackend", "the engine's apt repository has no jq")
		}
		return fmt.Errorf("backend with jq: wanted jq run by uid 10001, got %q, %v", out, explain(err))
	}
	opts.BackendSystemPackages = []string{"no-such-package-" + nonce()}
	_, err = dag.Commandcenter(opts).Container("backend").Sync(ctx)
	if err == nil || !strings.Contains(explain(err).Error(), "Unable to locate package") {
		return fmt.Errorf("an unknown system package: wanted apt's reason, got %v", explain(err))
	}
	return nil
}
