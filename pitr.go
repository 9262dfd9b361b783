package main

import (
	"context"
	"strings"
	"time"

	"dagger/commandcenter/internal/stack"
)

// pointInTimeBackup is the base backup that a restore to target starts
// from, on the history that restores follow (stack.StoreRange.BackupOnHistory).
// It refuses, before anything changes, a target that no transaction in the
// store's archive reaches: PostgreSQL would replay all of it and stop
// without a database. It reads the last transaction's time from the
// archived WAL that the restore replays, newest first
// (stack.StoreRange.CommitScan).
func (m *Commandcenter) pointInTimeBackup(ctx context.Context, r stack.StoreRange, target time.Time) (string, error) {
	history := ""
	if key := r.HistoryKey(); key != "" {
		out, err := m.storeRun(ctx, "read-archive", key)
		if err != nil {
			return "", err
		}
		history = out
	}
	backup, err := r.BackupOnHistory(m.Project, target, history)
	if err != nil {
		return "", err
	}
	scan, err := r.CommitScan(backup, history)
	if err != nil {
		return "", err
	}
	found, err := m.storeRunInput(ctx, strings.Join(scan, "\n")+"\n", "last-commit")
	if err != nil {
		return "", err
	}
	return backup, r.CheckReachable(m.Project, target, backup, found)
}
