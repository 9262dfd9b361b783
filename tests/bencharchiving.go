package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"dagger/tests/internal/dagger"
)

// The archiving phase of the benchmark: what WAL archiving to the store
// costs in write throughput, measured in one session on one machine
// against the same stack without a store.

// archivingRounds is how many pgbench runs each side gets, interleaved.
const archivingRounds = 5

// benchSide is one of the two projects the archiving phase compares.
type benchSide struct {
	label     string // store/pgbench-archiving or store/pgbench-plain
	cc        *dagger.Commandcenter
	archiving bool
}

// benchArchiving loads pgbench's tables (about 1 GB) in a project with the
// store (versitygw in the engine, over TLS) and in one without, waits for
// the store to hold the load's WAL, then runs pgbench for 30 s with 4
// clients, archivingRounds times on each, alternating which goes first:
// store/pgbench-archiving-tps against store/pgbench-plain-tps.
func benchArchiving(ctx context.Context, run string, res *benchResult) error {
	store, err := newStore(ctx, "archiving-"+run)
	if err != nil {
		return err
	}
	sides := []benchSide{
		{"store/pgbench-archiving", dag.Commandcenter(store.options("bench-archiving", storeKeyID, storeKeyValue)), true},
		{"store/pgbench-plain", dag.Commandcenter(fixture("bench-archiving-plain")), false},
	}
	err = compareThroughput(ctx, sides, res)
	for _, s := range sides {
		err = errors.Join(err, stop(ctx, s.cc), reset(ctx, s.cc))
	}
	return errors.Join(err, store.shutdown(ctx))
}

func compareThroughput(ctx context.Context, sides []benchSide, res *benchResult) error {
	for _, s := range sides {
		if err := loadTables(ctx, s, res); err != nil {
			return fmt.Errorf("%s: %w", s.label, err)
		}
	}
	for round := range archivingRounds {
		for i := range sides {
			s := sides[(i+round)%len(sides)]
			tps, err := pgbenchTPS(ctx, s.cc)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", s.label, round+1, err)
			}
			res.Samples[s.label+"-tps"] = append(res.Samples[s.label+"-tps"], tps)
		}
	}
	return nil
}

// loadTables starts s's stack (with the store: until a base backup is in
// it), loads pgbench's tables (label-init), and with the store waits until
// the load's WAL is archived (label-catchup, from the end of the load), so
// that no archiving of the load runs during the measurement.
func loadTables(ctx context.Context, s benchSide, res *benchResult) error {
	if err := startAll(ctx, s.cc); err != nil {
		return err
	}
	if s.archiving {
		if _, err := waitDurable(ctx, s.cc); err != nil {
			return err
		}
	}
	took, err := timed(func() error {
		_, err := pgbench(ctx, s.cc, "-i -q -s "+strconv.Itoa(pgbenchScale))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgbench -i: %w", err)
	}
	res.add(s.label+"-init", took)
	if !s.archiving {
		return nil
	}
	took, err = timed(func() error {
		wal, err := closeSegment(ctx, s.cc)
		if err == nil {
			_, err = waitProtection(ctx, s.cc, "the load's WAL archived", func(p protectionStatus) bool { return p.LastArchivedWAL >= wal })
		}
		return err
	})
	res.add(s.label+"-catchup", took)
	return err
}

// pgbenchTPS runs pgbench for 30 s with 4 clients against cc and returns
// its TPS (without the initial connection time).
func pgbenchTPS(ctx context.Context, cc *dagger.Commandcenter) (float64, error) {
	out, err := pgbench(ctx, cc, "-T 30 -c 4 -j 2")
	found := tpsPattern.FindStringSubmatch(out)
	if err != nil || found == nil {
		return 0, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	return strconv.ParseFloat(found[1], 64)
}
