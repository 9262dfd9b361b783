package main

import (
	"context"
	"errors"
	"fmt"

	"dagger/tests/internal/dagger"
)

// A project started on empty volumes says so in Status: postgres's new_database and initialized, and a protection that is not durable; a start on the kept database does not claim a new one.
//
// +check
func (m *Tests) NewDatabaseIsNeverSilent(ctx context.Context) error {
	cc := dag.Commandcenter(withPasswords(fixture("newdb")))
	if err := reset(ctx, cc); err != nil {
		return err
	}
	err := checkNewDatabase(ctx, cc)
	return errors.Join(err, stop(ctx, cc), reset(ctx, cc))
}

func checkNewDatabase(ctx context.Context, cc *dagger.Commandcenter) error {
	if _, err := cc.Start().Project(ctx); err != nil {
		return fmt.Errorf("start on empty volumes: %w", err)
	}
	first, err := postgresProtection(ctx, cc)
	if err != nil {
		return err
	}
	if !first.NewDatabase || first.Initialized == "" || first.Store != "none" || first.Durable {
		return fmt.Errorf("status after a start on empty volumes: wanted new_database, initialized, store none, not durable; got %+v", first)
	}
	if err := stop(ctx, cc); err != nil {
		return err
	}
	if _, err := cc.Start().Project(ctx); err != nil {
		return fmt.Errorf("start again: %w", err)
	}
	again, err := postgresProtection(ctx, cc)
	if err != nil {
		return err
	}
	if again.NewDatabase || again.Initialized != first.Initialized {
		return fmt.Errorf("status after a start on the kept database: wanted no new database, initialized %s; got %+v", first.Initialized, again)
	}
	return nil
}

// pgProtection is what Status says of postgres's database and its protection.
type pgProtection struct {
	NewDatabase bool
	Initialized string
	Store       string
	Durable     bool
}

func postgresProtection(ctx context.Context, cc *dagger.Commandcenter) (pgProtection, error) {
	st, _, err := readStatus(ctx, cc)
	if err != nil {
		return pgProtection{}, err
	}
	p := pgProtection{Store: st.Protection.Store, Durable: st.Protection.Durable}
	for _, s := range st.Services {
		if s.Service == "postgres" {
			p.NewDatabase, p.Initialized = s.NewDatabase, s.Initialized
		}
	}
	return p, nil
}
