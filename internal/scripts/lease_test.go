package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The lease's renewal, fencing and claim, run as the postgres container
// runs them, against a fake S3 (a curl that keeps each object as a file,
// with conditional writes) and a fake pgBackRest. The lease lives 5 s
// (renewed every second, fenced 3.75 s after its last renewal), or 15 s
// where a test needs a renewal in time on a busy machine.

// fakeS3 is curl as commandcenter-store calls it: the object named by the
// URL's last segment lives in $FAKE_OUT/s3, its ETag beside it. The store
// is down while $FAKE_OUT/s3-down exists; while $FAKE_OUT/s3-mute exists
// it takes a PUT but its answer is lost.
const fakeS3 = `#!/bin/sh
cat >/dev/null
method=GET head=/dev/null body=/dev/null upload= match= none= url=
while [ $# -gt 0 ]; do
	case $1 in
	-X) method=$2; shift ;;
	-D) head=$2; shift ;;
	-o) body=$2; shift ;;
	-T) upload=$2; shift ;;
	-H) case $2 in "If-Match: "*) match=${2#If-Match: } ;; "If-None-Match: "*) none=1 ;; esac; shift ;;
	-K | -w | --connect-timeout | --max-time | --aws-sigv4 | --cacert) shift ;;
	-*) ;;
	*) url=$1 ;;
	esac
	shift
done
mkdir -p "$FAKE_OUT/s3"
obj=$FAKE_OUT/s3/${url##*/}
answer() { printf 'ETag: %s\r\n' "$(cat "$obj.etag" 2>/dev/null)" >"$head"; printf '%s' "$1"; }
if [ -e "$FAKE_OUT/s3-down" ]; then echo "curl: (7) Failed to connect" >&2; printf 000; exit 7; fi
case $method in
GET)
	if [ -e "$obj" ]; then cp "$obj" "$body"; answer 200; else echo '<Error><Code>NoSuchKey</Code></Error>' >"$body"; answer 404; fi ;;
PUT)
	if { [ -n "$none" ] && [ -e "$obj" ]; } || { [ -n "$match" ] && [ "$match" != "$(cat "$obj.etag" 2>/dev/null)" ]; }; then
		answer 412; exit 0
	fi
	cp "$upload" "$obj"
	echo "\"$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')\"" >"$obj.etag"
	if [ -e "$FAKE_OUT/s3-mute" ]; then printf 000; exit 28; fi
	answer 200 ;;
DELETE) rm -f "$obj" "$obj.etag"; answer 204 ;;
esac
`

// fakePgBackRest answers info, repo-ls and repo-get from files in
// $FAKE_OUT, and notes any other command, which takes 30 s while
// $FAKE_OUT/slow exists.
const fakePgBackRest = `#!/bin/sh
case " $* " in
*" info "*) cat "$FAKE_OUT/info.json" ;;
*" repo-ls "*) cat "$FAKE_OUT/repo-ls.json" 2>/dev/null || echo '{}' ;;
*" repo-get "*) cat "$FAKE_OUT/archive.info" ;;
*)
	echo "$*" >>"$FAKE_OUT/pgbackrest.ran"
	if [ -e "$FAKE_OUT/slow" ]; then exec sleep 30; fi ;;
esac
`

const noStanza = `[{"name":"shop","status":{"code":1,"message":"missing stanza path"},"backup":[],"archive":[],"db":[]}]`

// leaseSandbox is a sandbox with the fakes, an empty data directory and
// the store's environment.
func leaseSandbox(t *testing.T, ttl int) (*sandbox, []string) {
	s := newSandbox(t)
	s.write(filepath.Join(s.bin, "curl"), fakeS3, 0o755)
	s.write(filepath.Join(s.bin, "pgbackrest"), fakePgBackRest, 0o755)
	s.write(filepath.Join(s.dir, "info.json"), noStanza, 0o644)
	for _, d := range []string{"pgdata", "generated"} {
		if err := os.Mkdir(filepath.Join(s.dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env := append(s.storeEnv(credentials),
		"COMMANDCENTER_PROJECT=shop", "COMMANDCENTER_STORE=s3://ccbucket/cc", "COMMANDCENTER_STORE_REGION=us-east-1",
		"COMMANDCENTER_STORE_BUCKET_URL=https://s3.test/ccbucket", "COMMANDCENTER_STORE_LEASE_KEY=cc/shop/commandcenter/lease",
		"COMMANDCENTER_STORE_LEASE_SECONDS="+strconv.Itoa(ttl), "COMMANDCENTER_GENERATED_DIR="+filepath.Join(s.dir, "generated"),
		"PGDATA="+filepath.Join(s.dir, "pgdata"), "PGBACKREST_STANZA=shop")
	return s, env
}

// prepare runs commandcenter-pg-store prepare in a process group of its
// own, its output in a file: the renewer it leaves running keeps that
// open. The test's end kills the group, the renewer and its children.
func prepare(s *sandbox, env []string) (string, error) {
	out, err := os.Create(filepath.Join(s.dir, "prepare.out"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer out.Close()
	cmd := s.command(env, "pg-store", "prepare")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		time.Sleep(100 * time.Millisecond)
	})
	err = cmd.Wait()
	return s.read("prepare.out"), err
}

func (s *sandbox) leaseRecord() map[string]string {
	b, _ := os.ReadFile(filepath.Join(s.logs, "postgres.lease"))
	return fields(string(b))
}

// waitLease polls the lease record until ok holds of it; only a hang
// reaches the bound.
func (s *sandbox) waitLease(what string, ok func(map[string]string) bool) map[string]string {
	s.t.Helper()
	var got map[string]string
	for deadline := time.Now().Add(logWait); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got = s.leaseRecord(); ok(got) {
			return got
		}
	}
	s.t.Fatalf("lease record = %v, waited for %s", got, what)
	return nil
}

func state(want string) func(map[string]string) bool {
	return func(r map[string]string) bool { return r["state"] == want }
}

// push runs archive-push as the serving copy's server does.
func push(s *sandbox, env []string) (string, error) {
	_, stderr, err := s.run(append(env, "COMMANDCENTER_LEASE_FENCE=1"), "pgbackrest", "archive-push", "pg_wal/000000010000000000000007")
	return stderr, err
}

func TestRenewerFencesTheCopyWhileTheStoreIsDownAndResumesWithItsOwnLease(t *testing.T) {
	s, env := leaseSandbox(t, 15)
	if stderr, err := prepare(s, env); err != nil {
		t.Fatalf("prepare: %v\n%s", err, stderr)
	}
	first := s.leaseRecord()
	if first["state"] != "held" || first["fence_ms"] == "" {
		t.Fatalf("lease record after the claim = %v, want held, with the time it fences", first)
	}
	s.waitLease("a renewal", func(r map[string]string) bool { return r["etag"] != first["etag"] && r["state"] == "held" })
	if stderr, err := push(s, env); err != nil {
		t.Fatalf("archive-push with the lease renewed: %v\n%s", err, stderr)
	}

	s.write(filepath.Join(s.dir, "s3-down"), "", 0o644)
	fenced := s.waitLease("the fence", state("fenced"))
	if !strings.Contains(fenced["error"], "Failed to connect") && !strings.Contains(fenced["error"], "did not answer") {
		t.Errorf("fenced record = %v, want the renewal's failure", fenced)
	}
	_ = os.Remove(filepath.Join(s.dir, "pgbackrest.ran"))
	stderr, err := push(s, env)
	if err == nil || !strings.Contains(stderr, "fenced") {
		t.Errorf("archive-push while fenced: %v %q, want it refused, naming the fence", err, stderr)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "pgbackrest.ran")); err == nil {
		t.Error("pgBackRest ran while fenced, want no write to the store")
	}
	if rec := fields(s.read("logs/postgres.archive")); !strings.Contains(rec["error"], "fenced") || rec["failing_since"] == "" {
		t.Errorf("archive record while fenced = %v, want the failure and the fence, for status", rec)
	}

	_ = os.Remove(filepath.Join(s.dir, "s3-down"))
	s.waitLease("the lease renewed again", state("held"))
	if stderr, err := push(s, env); err != nil {
		t.Errorf("archive-push once the lease is renewed: %v\n%s", err, stderr)
	}
	if out := s.read("prepare.out"); !strings.Contains(out, "fenced") || !strings.Contains(out, "writing to the store again") {
		t.Errorf("the renewer's log = %q, want the fence and the resumption said", out)
	}
}

func TestRenewerTakesItsOwnUnansweredWriteForARenewal(t *testing.T) {
	s, env := leaseSandbox(t, 5)
	if stderr, err := prepare(s, env); err != nil {
		t.Fatalf("prepare: %v\n%s", err, stderr)
	}
	mute := s.write(filepath.Join(s.dir, "s3-mute"), "", 0o644)
	s.waitLease("a renewal without an answer", func(r map[string]string) bool { return strings.Contains(r["error"], "renewal failed") })
	_ = os.Remove(mute)
	s.waitLease("a renewal answered", func(r map[string]string) bool { return r["state"] == "held" && r["error"] == "" })
	if got := s.leaseRecord()["state"]; got != "held" {
		t.Errorf("lease after its own unanswered write = %q, want held, not lost", got)
	}
}

func TestRenewerStopsTheServerWhenAnotherCopyTookTheLease(t *testing.T) {
	s, env := leaseSandbox(t, 5)
	if stderr, err := prepare(s, env); err != nil {
		t.Fatalf("prepare: %v\n%s", err, stderr)
	}
	server := exec.Command("sleep", "60")
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- server.Wait() }()
	s.write(filepath.Join(s.logs, "postgres.server"), strconv.Itoa(server.Process.Pid)+"\n", 0o644)
	s.write(filepath.Join(s.dir, "s3", "lease"), "copy=rival\nstate=held\nttl=5\n", 0o644)
	s.write(filepath.Join(s.dir, "s3", "lease.etag"), "\"rival\"\n", 0o644)
	s.waitLease("the lease lost", state("lost"))
	if err := waitExit(t, exited, logWait); err == nil {
		t.Error("the server exited cleanly, want it stopped by a signal")
	}
	if stderr, err := push(s, env); err == nil || !strings.Contains(stderr, "another copy took the store's lease") {
		t.Errorf("archive-push after the loss: %v %q, want it refused", err, stderr)
	}
}

func TestAFencedWriteThatRunsIsKilled(t *testing.T) {
	s, env := leaseSandbox(t, 5)
	s.write(filepath.Join(s.dir, "slow"), "", 0o644)
	s.write(filepath.Join(s.logs, "postgres.lease"), "state=held\nfence_ms="+strconv.FormatInt(uptimeMS(t)+1500, 10)+"\n", 0o644)
	began := time.Now()
	_, stderr, err := s.run(append(env, "COMMANDCENTER_LEASE_FENCE=1"), "pgbackrest", "backup", "--type=full")
	if err == nil || time.Since(began) > 20*time.Second {
		t.Errorf("a 30 s backup overtaken by the fence 1.5 s in: %v after %s (%q), want it killed", err, time.Since(began), stderr)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "pgbackrest.ran")); err != nil {
		t.Error("pgBackRest did not run before the fence, want it started")
	}
}

func uptimeMS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		t.Fatal(err)
	}
	secs, err := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	if err != nil {
		t.Fatal(err)
	}
	return int64(secs * 1000)
}
