package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"dagger/tests/internal/dagger"
)

// The store and crash phases of the benchmark, against versitygw in the
// engine: the restore of a database of about 1 GB after the drill; then
// the writes a crash loses (the RPO). What archiving costs in throughput is
// the archiving phase (bencharchiving.go).

// pgbenchScale makes pgbench's tables about 1 GB (15 MB per unit).
const pgbenchScale = 70

func benchStore(ctx context.Context, run string, res *benchResult) error {
	store, err := newStore(ctx, "bench-"+run)
	if err != nil {
		return err
	}
	archived := store.options("bench-store", storeKeyID, storeKeyValue)
	// Each part that fails is reported, and the others still measured.
	note := func(part string, errs ...error) {
		if err := errors.Join(errs...); err != nil {
			res.Errors = append(res.Errors, part+": "+err.Error())
		}
	}
	cc := dag.Commandcenter(archived)
	note("load", loadTables(ctx, benchSide{"store/restore-1gb-load", cc, true}, res), stop(ctx, cc))
	note("restore", benchRestore(ctx, archived, res))
	note("reset", reset(ctx, cc), store.shutdown(ctx))
	return nil
}

// benchCrash is the crash phase: the RPO, on a store of its own.
func benchCrash(ctx context.Context, run string, res *benchResult) error {
	store, err := newStore(ctx, "crash-"+run)
	if err != nil {
		return err
	}
	cc := dag.Commandcenter(store.options("bench-crash", storeKeyID, storeKeyValue))
	return errors.Join(benchRPO(ctx, cc, res), reset(ctx, cc), store.shutdown(ctx))
}

// pgbench runs pgbench against cc's postgres with args, as the client does
// with the module's DatabaseURL, and returns its output.
func pgbench(ctx context.Context, cc *dagger.Commandcenter, args string) (string, error) {
	out, err := dag.Container().From(postgresImage).
		WithServiceBinding("db", cc.Postgres()).
		WithSecretVariable("DATABASE_URL", cc.DatabaseURL(dagger.CommandcenterDatabaseURLOpts{Host: "db"})).
		WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"sh", "-c", `pgbench ` + args + ` "$DATABASE_URL" 2>&1`}).
		Stdout(ctx)
	return out, explain(err)
}

var tpsPattern = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// benchRestore takes a fresh base backup of the loaded database (the
// project started again with a backup interval of 1 min), stops it, drops
// this engine's copy and times the start that restores it:
// store/restore-1gb (the whole Start), store/restore-1gb-pgbackrest (the
// pgbackrest restore alone) and store/restore-1gb-mib (the database's size).
func benchRestore(ctx context.Context, archived dagger.CommandcenterOpts, res *benchResult) error {
	archived.StoreBackupInterval = "1m"
	cc := dag.Commandcenter(archived)
	if err := startAll(ctx, cc); err != nil {
		return err
	}
	size, err := psqlURL(ctx, cc, "SELECT pg_database_size('commandcenter') / 1048576")
	if err != nil {
		return errors.Join(err, stop(ctx, cc))
	}
	mib, err := strconv.ParseFloat(size, 64)
	if err != nil {
		return errors.Join(fmt.Errorf("the database's size: wanted a number, got %q", size), stop(ctx, cc))
	}
	res.Samples["store/restore-1gb-mib"] = []float64{mib}
	if err := waitNewBackup(ctx, cc); err != nil {
		return errors.Join(err, stop(ctx, cc))
	}
	for range benchRepeats {
		if err := stop(ctx, cc); err != nil {
			return err
		}
		if _, err := cc.Reset(dagger.CommandcenterResetOpts{Yes: true, LocalOnly: true}).Project(ctx); err != nil {
			return fmt.Errorf("the drill: %w", err)
		}
		took, err := timed(func() error { return startAll(ctx, cc) })
		if err != nil {
			return fmt.Errorf("start after the drill: %w", err)
		}
		res.add("store/restore-1gb", took)
		restored, err := restoredTook(ctx, cc)
		if err != nil {
			return errors.Join(err, stop(ctx, cc))
		}
		res.add("store/restore-1gb-pgbackrest", restored)
	}
	return stop(ctx, cc)
}

// waitNewBackup waits, at most 10 min, for a base backup taken after now.
func waitNewBackup(ctx context.Context, cc *dagger.Commandcenter) error {
	first, err := waitDurable(ctx, cc)
	if err != nil {
		return err
	}
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Second) {
		st, _, err := readStoreStatus(ctx, cc)
		if err != nil {
			return err
		}
		if st.Protection.LastBackup != first.Protection.LastBackup {
			return nil
		}
	}
	return fmt.Errorf("no new base backup within 10 min of %s", first.Protection.LastBackup)
}

var restoredPattern = regexp.MustCompile(`restored from the store \S+ in (\d+) ms`)

// restoredTook reads from postgres's log how long its last restore took.
func restoredTook(ctx context.Context, cc *dagger.Commandcenter) (time.Duration, error) {
	logs, err := serviceLogs(ctx, cc, "postgres", 400)
	if err != nil {
		return 0, err
	}
	found := restoredPattern.FindAllStringSubmatch(logs, -1)
	if found == nil {
		return 0, errors.New("postgres: no restore line in its log after the drill")
	}
	ms, _ := strconv.Atoi(found[len(found)-1][1])
	return time.Duration(ms) * time.Millisecond, nil
}

// benchRPO measures, three times, what a crash loses: the table is made
// and its WAL segment archived; then a writer inserts one row every 0.1 s
// and notes each acknowledged one; postgres is killed 75 s in (SIGKILL: no
// last archiving, as in a crash), so one archive_timeout (60 s) has passed;
// this engine's copy is dropped and the next start restores from the
// store, once the killed copy's lease has lapsed. store/rpo-kill-lost-rows counts the acknowledged
// rows that did not come back, store/rpo-kill-written-rows the
// acknowledged ones, and store/rpo-kill-unarchived the time from the
// last archived WAL segment to the kill.
func benchRPO(ctx context.Context, cc *dagger.Commandcenter, res *benchResult) error {
	for i := range benchRepeats {
		if err := errors.Join(crashOnce(ctx, cc, res), stop(ctx, cc)); err != nil {
			return fmt.Errorf("crash %d: %w", i+1, err)
		}
	}
	return nil
}

func crashOnce(ctx context.Context, cc *dagger.Commandcenter, res *benchResult) error {
	if err := startAll(ctx, cc); err != nil {
		return err
	}
	if _, err := psqlURL(ctx, cc, "DROP TABLE IF EXISTS rpo; CREATE TABLE rpo (i int)"); err != nil {
		return err
	}
	wal, err := closeSegment(ctx, cc)
	if err != nil {
		return err
	}
	if _, err := waitProtection(ctx, cc, "the table's segment archived", func(p protectionStatus) bool { return p.LastArchivedWAL >= wal }); err != nil {
		return err
	}
	done := make(chan acked, 1)
	go func() { done <- write(ctx, cc) }()
	time.Sleep(75 * time.Second)
	st, _, err := readStoreStatus(ctx, cc)
	if err != nil {
		return err
	}
	killedAt := time.Now()
	if _, err := cc.Postgres().Stop(ctx, dagger.ServiceStopOpts{Kill: true}); err != nil {
		return fmt.Errorf("kill postgres: %w", err)
	}
	a := <-done
	if a.err != nil || a.last == 0 {
		return fmt.Errorf("writer: no acknowledged row (%v)", explain(a.err))
	}
	if err := stop(ctx, cc); err != nil {
		return err
	}
	if _, err := cc.Reset(dagger.CommandcenterResetOpts{Yes: true, LocalOnly: true}).Project(ctx); err != nil {
		return fmt.Errorf("the drill: %w", err)
	}
	if err := startAll(ctx, cc); err != nil {
		return fmt.Errorf("start after the crash and the drill: %w", err)
	}
	old := a.before(killedAt.Add(-archiveTimeout))
	lost, err := psqlURL(ctx, cc, fmt.Sprintf("SELECT count(*) || ' ' || count(*) FILTER (WHERE g <= %d) FROM generate_series(1, %d) g WHERE g NOT IN (SELECT i FROM rpo)", old, a.last))
	if err != nil {
		return err
	}
	var n, nOld int
	if _, err := fmt.Sscanf(lost, "%d %d", &n, &nOld); err != nil {
		return fmt.Errorf("rows lost: wanted two counts, got %q", lost)
	}
	res.Samples["store/rpo-kill-written-rows"] = append(res.Samples["store/rpo-kill-written-rows"], float64(a.last))
	res.Samples["store/rpo-kill-lost-rows"] = append(res.Samples["store/rpo-kill-lost-rows"], float64(n))
	res.Samples["store/rpo-kill-lost-old-rows"] = append(res.Samples["store/rpo-kill-lost-old-rows"], float64(nOld))
	if at, err := time.Parse(time.RFC3339, st.Protection.LastArchivedAt); err == nil {
		res.add("store/rpo-kill-unarchived", killedAt.Sub(at))
	}
	return nil
}

// archiveTimeout is the server's archive_timeout: a write older than that
// at a crash is in an archived WAL segment, and must come back.
const archiveTimeout = 60 * time.Second

// acked is what the writer saw acknowledged: rows 1 to last, row i at
// at[i-1] (Unix seconds).
type acked struct {
	last int
	at   []int64
	err  error
}

// before returns the last row acknowledged before t, or 0.
func (a acked) before(t time.Time) int {
	n := 0
	for i, at := range a.at {
		if at < t.Unix() {
			n = i + 1
		}
	}
	return n
}

// write inserts rows 1, 2, ... every 0.1 s until postgres goes away. It
// reaches postgres at the address it records, as the probes do, not
// through a binding: the engine would end a client whose bound service is
// killed before it could say what was acknowledged.
func write(ctx context.Context, cc *dagger.Commandcenter) acked {
	out, err := cc.Container("postgres").
		WithEnvVariable("NONCE", nonce()).
		WithExec([]string{"sh", "-c", `HOST=$(sed -n 's/^address=//p' /var/log/commandcenter/postgres.run)
PGPASSWORD=$(cat /var/lib/commandcenter-db/db-password) && export PGPASSWORD
i=0; while [ $i -lt 3000 ]; do i=$((i + 1))
psql -h "$HOST" -U commandcenter -d commandcenter -qc "INSERT INTO rpo VALUES ($i)" 2>/dev/null || exit 0; echo "$i $(date +%s)"; sleep 0.1; done`}).
		Stdout(ctx)
	a := acked{err: err}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var i int
		var at int64
		if _, serr := fmt.Sscanf(line, "%d %d", &i, &at); serr != nil || i != a.last+1 {
			if line != "" {
				a.err = errors.Join(a.err, fmt.Errorf("writer: wanted row %d and its time, got %q", a.last+1, line))
			}
			break
		}
		a.last, a.at = i, append(a.at, at)
	}
	return a
}
