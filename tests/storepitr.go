package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"dagger/tests/internal/dagger"
)

// Restores from the store that must leave it usable and lose nothing: a
// point in time before the latest backup, a point in time no transaction
// reaches, and a stop while the store is down.

// nowUTC is SQL for the database's current time, RFC 3339 with microseconds.
const nowUTC = `to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`

// A point-in-time restore to before the latest base backup, then writes, then the drill: the restore to the end of the archive brings back the writes made after the point-in-time restore, and not the ones it undid; a later restore to a time after the abandoned branch's backup starts from a backup on the newest timeline's history, not from that one.
//
// +check
func (m *Tests) StorePointInTimeBeforeTheLatestBackup(ctx context.Context) error {
	const project = "store-pitr-branch"
	store, err := newStore(ctx, project+nonce())
	if err != nil {
		return err
	}
	opts := store.options(project, storeKeyID, storeKeyValue)
	opts.StoreBackupInterval = "2m"
	cc := dag.Commandcenter(opts)
	return errors.Join(pointInTimeThenDrill(ctx, cc), stop(ctx, cc), reset(ctx, cc), store.shutdown(ctx))
}

func pointInTimeThenDrill(ctx context.Context, cc *dagger.Commandcenter) error {
	if _, err := cc.Postgres().Start(ctx); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	if _, err := waitDurable(ctx, cc); err != nil {
		return err
	}
	if _, err := psqlURL(ctx, cc, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('first')"); err != nil {
		return err
	}
	time.Sleep(time.Second)
	between, err := psqlURL(ctx, cc, "SELECT "+nowUTC)
	if err != nil {
		return err
	}
	time.Sleep(time.Second)
	if _, err := psqlURL(ctx, cc, "INSERT INTO notes VALUES ('undone')"); err != nil {
		return err
	}
	if err := waitNewBackup(ctx, cc); err != nil { // with --store-backup-interval 2m
		return err
	}
	// after that backup, on the branch that the point-in-time restore abandons
	abandoned := time.Now().UTC().Format(time.RFC3339Nano)
	if err := stop(ctx, cc); err != nil {
		return err
	}
	if _, err := cc.Restore(dagger.CommandcenterRestoreOpts{FromStore: true, Time: between}).Postgres().Start(ctx); err != nil {
		return fmt.Errorf("restore --from-store --time %s (before the latest backup), then start: %w", between, err)
	}
	if rows, err := psqlURL(ctx, cc, "SELECT string_agg(body, ',' ORDER BY body) FROM notes"); err != nil || rows != "first" {
		return fmt.Errorf("rows after the restore to %s: wanted only the first write, got %q (%v)", between, rows, err)
	}
	if _, err := psqlURL(ctx, cc, "INSERT INTO notes VALUES ('later')"); err != nil {
		return err
	}
	if err := stop(ctx, cc); err != nil {
		return err
	}
	if _, err := cc.Reset(dagger.CommandcenterResetOpts{Yes: true, LocalOnly: true}).Postgres().Start(ctx); err != nil {
		return fmt.Errorf("the drill after the point-in-time restore (reset --local-only, start): %w", err)
	}
	rows, err := psqlURL(ctx, cc, "SELECT string_agg(body, ',' ORDER BY body) FROM notes")
	if err != nil || rows != "first,later" {
		return fmt.Errorf("rows after the drill: wanted the write before the point in time and the one after its restore (first,later), got %q (%v)", rows, err)
	}
	if err := stop(ctx, cc); err != nil {
		return err
	}
	// The newest backup before that time is on the abandoned branch, from
	// which no recovery of the newest timeline can start; the first full
	// backup, before the branch, is still kept (backups between weekly
	// fulls are differential). The restore starts from it and follows the
	// newest timeline: the abandoned write is not replayed, and the later
	// one is after the target.
	if _, err := cc.Restore(dagger.CommandcenterRestoreOpts{FromStore: true, Time: abandoned}).Postgres().Start(ctx); err != nil {
		return fmt.Errorf("restore --from-store --time %s (after a backup of the abandoned branch), then start: %w", abandoned, err)
	}
	if rows, err := psqlURL(ctx, cc, "SELECT string_agg(body, ',' ORDER BY body) FROM notes"); err != nil || rows != "first" {
		return fmt.Errorf("rows after the restore to %s, a time on the abandoned branch: wanted the newest timeline's rows at that time (first), got %q (%v)", abandoned, rows, err)
	}
	return nil
}

// A restore to a time after the last transaction in the store is refused before anything changes, naming that transaction's time; the next start serves the data as it was.
//
// +check
func (m *Tests) StoreTargetAfterTheLastCommitIsRefused(ctx context.Context) error {
	return withStoreProject(ctx, "store-pitr-late", func(_ testStore, cc *dagger.Commandcenter) error {
		return targetAfterLastCommit(ctx, cc)
	})
}

// lastTransaction reads the time that a refusal names as the last transaction's.
var lastTransaction = regexp.MustCompile(`the last transaction that the store's archive holds for project "[^"]+", which ended at (\S+):`)

func targetAfterLastCommit(ctx context.Context, cc *dagger.Commandcenter) error {
	if _, err := cc.Postgres().Start(ctx); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	if _, err := waitDurable(ctx, cc); err != nil {
		return err
	}
	began, err := psqlURL(ctx, cc, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('last'); SELECT "+nowUTC)
	if err != nil {
		return err
	}
	time.Sleep(3 * time.Second)
	late, err := psqlURL(ctx, cc, "SELECT "+nowUTC)
	if err != nil {
		return err
	}
	if err := stop(ctx, cc); err != nil {
		return err
	}
	_, err = cc.Restore(dagger.CommandcenterRestoreOpts{FromStore: true, Time: late}).Project(ctx)
	if err == nil {
		return fmt.Errorf("restore --from-store --time %s, after the last write (%s): wanted a refusal, it was accepted", late, began)
	}
	m := lastTransaction.FindStringSubmatch(err.Error())
	if m == nil || !strings.Contains(err.Error(), "the data was not changed") {
		return fmt.Errorf("restore --from-store --time %s: wanted a refusal naming the last transaction's time, got %v", late, err)
	}
	ended, perr := time.Parse(time.RFC3339Nano, m[1])
	from, _ := time.Parse(time.RFC3339Nano, began)
	to, _ := time.Parse(time.RFC3339Nano, late)
	if perr != nil || ended.Before(from) || !ended.Before(to) {
		return fmt.Errorf("the refusal's last transaction %q: wanted the write's commit, between %s and %s", m[1], began, late)
	}
	if _, err := cc.Postgres().Start(ctx); err != nil {
		return fmt.Errorf("start after the refusal: %w", err)
	}
	if n, err := psqlURL(ctx, cc, "SELECT count(*) FROM notes WHERE body = 'last'"); err != nil || n != "1" {
		return fmt.Errorf("rows after the refusal: wanted the last write, got %q (%v)", n, err)
	}
	pg, err := serviceStatus(ctx, cc, "postgres")
	if err != nil {
		return err
	}
	if pg.Restored != nil && pg.Restored.ThisInstance {
		return fmt.Errorf("status after the refusal: wanted no restore at this start, got %+v", pg)
	}
	return nil
}

// The store down, writes, a stop, the store back, restore --from-store: the stop keeps the lease and says the store is behind, the restore is refused while the store is down, and once it is back every acknowledged write is restored.
//
// +check
func (m *Tests) StoreStopWhileTheStoreIsDownLosesNoWrite(ctx context.Context) error {
	const project = "store-down-stop"
	return withStoreProject(ctx, project, func(store testStore, cc *dagger.Commandcenter) error {
		return stopWhileDown(ctx, store, cc, project)
	})
}

func stopWhileDown(ctx context.Context, store testStore, cc *dagger.Commandcenter, project string) error {
	if err := startDurable(ctx, cc); err != nil {
		return err
	}
	if _, err := psqlURL(ctx, cc, "CREATE TABLE IF NOT EXISTS notes (body text); INSERT INTO notes VALUES ('before')"); err != nil {
		return err
	}
	if err := store.setDown(ctx, true); err != nil {
		return fmt.Errorf("take the store down: %w", err)
	}
	if _, err := psqlURL(ctx, cc, "INSERT INTO notes SELECT 'down-' || i FROM generate_series(1, 50) i"); err != nil {
		return err
	}
	if _, err := closeSegment(ctx, cc); err != nil {
		return err
	}
	if err := stop(ctx, cc); err != nil {
		return err
	}
	logs, err := serviceLogs(ctx, cc, "postgres", 300)
	if err != nil || !strings.Contains(logs, "the store is BEHIND") || !strings.Contains(logs, "The lease stays with this copy") {
		return fmt.Errorf("postgres logs after a stop with the store down: wanted that the store is behind and the lease kept, got (%v):\n%s", err, logs)
	}
	_, err = cc.Restore(dagger.CommandcenterRestoreOpts{FromStore: true}).Project(ctx)
	if err == nil || !strings.Contains(err.Error(), "did not answer") {
		return fmt.Errorf("restore --from-store with the store down: wanted a refusal saying the store did not answer, got %v", err)
	}
	if err := store.setDown(ctx, false); err != nil {
		return fmt.Errorf("bring the store back: %w", err)
	}
	held, err := store.rival(project, "").WithExec([]string{"sh", "-c", getLease}).Stdout(ctx)
	if err != nil || !strings.Contains(held, "state=held") {
		return fmt.Errorf("the store's lease after the stop: wanted it still held by the stopped copy, got %q (%v)", held, explain(err))
	}
	_, err = cc.Restore(dagger.CommandcenterRestoreOpts{FromStore: true}).Postgres().Start(ctx)
	if err != nil {
		return fmt.Errorf("restore --from-store once the store is back, then start: %w", err)
	}
	if n, err := psqlURL(ctx, cc, "SELECT count(*) FROM notes"); err != nil || n != "51" {
		return fmt.Errorf("rows after the restore: wanted every acknowledged write (51), got %q (%v)", n, err)
	}
	pg, err := serviceStatus(ctx, cc, "postgres")
	if err != nil || pg.Restored == nil || !pg.Restored.ThisInstance {
		return fmt.Errorf("status after restore --from-store: wanted postgres restored from the store at this start, got %+v (%v)", pg, err)
	}
	return nil
}
