package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"dagger/tests/internal/dagger"
)

// The app's role uses pgvector (an HNSW index finds the nearest row) and runs migrations, and is refused what only a superuser may do.
//
// +check
func (m *Tests) AppRoleIsNotSuperuser(ctx context.Context) error {
	opts := withPasswords(fixture("roles-" + nonce()))
	cc := dag.Commandcenter(opts)
	err := checkAppRole(ctx, cc, opts.DbPassword)
	return errors.Join(err, stop(ctx, cc), reset(ctx, cc))
}

func checkAppRole(ctx context.Context, cc *dagger.Commandcenter, password *dagger.Secret) error {
	super, err := psql(ctx, cc, password, "select rolsuper::text || rolcreaterole::text || rolreplication::text from pg_roles where rolname = current_user")
	if err != nil {
		return err
	}
	if super != "falsefalsefalse" {
		return fmt.Errorf("rolsuper, rolcreaterole, rolreplication of the app's role: wanted falsefalsefalse, got %q", super)
	}
	nearest, err := psql(ctx, cc, password, `create extension if not exists vector;
create table items (id serial primary key, name text, v vector(3));
create index items_name on items (name);
create index items_v on items using hnsw (v vector_l2_ops);
insert into items (name, v) values ('a', '[1,2,3]'), ('b', '[9,9,9]'), ('c', '[1,2,5]');
set enable_seqscan = off;
select name from items order by v <-> '[1,2,4]' limit 1`)
	if err != nil {
		return fmt.Errorf("pgvector as the app's role: %w", err)
	}
	// the last line answers the query; the others are the statements' tags
	nearest = nearest[strings.LastIndex(nearest, "\n")+1:]
	if nearest != "a" && nearest != "c" {
		return fmt.Errorf("nearest row to [1,2,4]: wanted a or c (distance 1), got %q", nearest)
	}
	for sql, want := range map[string]string{
		"select pg_read_file('/run/secrets/db-password')": "permission denied",
		"copy (select 1) to program 'id'":                 "pg_execute_server_program",
		"create role intruder":                            "permission denied",
		"alter system set work_mem = '8MB'":               "permission denied",
		"alter role commandcenter superuser":              "must be superuser",
	} {
		_, err := psql(ctx, cc, password, sql)
		if err == nil || !strings.Contains(err.Error(), want) {
			return fmt.Errorf("%s as the app's role: wanted %q, got %v", sql, want, err)
		}
	}
	return nil
}

// An extension the image lacks fails the start at once, naming it and --postgres-extensions.
//
// +check
func (m *Tests) UnknownExtensionFailsFast(ctx context.Context) error {
	opts := withPasswords(fixture("ext-" + nonce()))
	opts.PostgresExtensions = []string{"vector", "no_such_extension"}
	cc := dag.Commandcenter(opts)
	_, err := cc.Postgres().Start(ctx)
	defer reset(ctx, cc)
	if err == nil {
		return errors.Join(errors.New("postgres started with an extension its image lacks"), stop(ctx, cc))
	}
	for _, want := range []string{"no_such_extension", "--postgres-extensions"} {
		if !strings.Contains(err.Error(), want) {
			return fmt.Errorf("start with an unknown extension: wanted %q in the error, got %v", want, err)
		}
	}
	return nil
}
