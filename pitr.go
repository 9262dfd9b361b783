package main

import (
	"context"
	"strings"
	"time"

	"dagger/commandcenter/internal/stack"
)

// checkReachable refuses, before anything changes, a point in time target
// that no transaction in the store's archive reaches: PostgreSQL would
// replay all of it and stop without a database. It reads the last
// transaction's time from the archived WAL that a restore to target
// replays, newest first (stack.StoreRange.CommitScan), starting from the
// base backup named backup.
func (m *Commandcenter) checkReachable(ctx context.Context, r stack.StoreRange, target time.Time, backup string) error {
	history := ""
	if key := r.HistoryKey(); key != "" {
		out, err := m.storeRun(ctx, "read-archive", key)
		if err != nil {
			return err
		}
		history = out
	}
	scan, err := r.CommitScan(backup, history)
	if err != nil {
		return err
	}
	found, err := m.storeRunInput(ctx, strings.Join(scan, "\n")+"\n", "last-commit")
	if err != nil {
		return err
	}
	return r.CheckReachable(m.Project, target, backup, found)
}
