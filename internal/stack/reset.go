package stack

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// What reset, restore and the store's check decide, before and after they
// ask the engine: the root package runs the engine calls these name.

// ResetPlan is what a reset does before it deletes anything: at most one
// command of commandcenter-pg-store against the project's store.
type ResetPlan struct {
	// StoreCommand is "drop" (a plain reset deletes the store's copy),
	// "catch-up" (--local-only first pushes what the store lacks), or ""
	// (no store).
	StoreCommand string
}

// PlanReset checks a reset's flags: the confirmation, and --local-only,
// which keeps the store's copy, only with a store.
func PlanReset(project string, store Store, yes bool, confirm string, localOnly bool) (ResetPlan, error) {
	if err := ConfirmReset(project, yes, confirm); err != nil {
		return ResetPlan{}, err
	}
	switch {
	case localOnly && !store.Enabled():
		return ResetPlan{}, errors.New("--local-only keeps the store's copy, and this project has no store (--store): without one, this engine's copy is the only one; nothing was deleted")
	case localOnly:
		return ResetPlan{StoreCommand: "catch-up"}, nil
	case store.Enabled():
		return ResetPlan{StoreCommand: "drop"}, nil
	}
	return ResetPlan{}, nil
}

// StoreFailed says that the plan's store command failed, and that nothing
// was deleted.
func (p ResetPlan) StoreFailed(project string, err error) error {
	if p.StoreCommand == "catch-up" {
		return fmt.Errorf("reset --local-only: nothing was deleted: %w", err)
	}
	return fmt.Errorf("reset project %q: the store's copy was not deleted, nor was anything else: %w", project, err)
}

// Mount is a cache volume, mounted at Path with the root owned by Owner.
type Mount struct {
	Path, Volume, Owner string
}

// ResetMounts are the volumes that a reset of service s empties, each
// mounted as s mounts it (the owner is part of a volume's identity): its
// run volume and its data. For postgres, that is the data volume of the
// image's major, and of the project's recorded cluster when that is
// another one.
func (c Config) ResetMounts(s Service, major, cluster string) []Mount {
	user := c.User(s)
	mounts := []Mount{{LogDir, Volume(c.Project, "logs", string(s)), user}}
	switch s {
	case Postgres:
		mounts = append(mounts,
			Mount{PGData, PGDataVolume(c.Project, major), User(Postgres)},
			Mount{GeneratedDBDir, Volume(c.Project, "db-secret"), user})
		if cluster != "" && cluster != major {
			other := "/var/lib/postgresql/data-" + cluster
			mounts = append(mounts, Mount{other, PGDataVolume(c.Project, cluster), user})
		}
	case Redis:
		mounts = append(mounts,
			Mount{"/data", Volume(c.Project, "redis-data", ImageMajor(c.Images.Redis)), User(Redis)},
			Mount{GeneratedRedisDir, Volume(c.Project, "redis-secret"), user})
	case Backend:
		mounts = append(mounts, Mount{StateDir, Volume(c.Project, "backend-state"), user})
	}
	return mounts
}

// ExitRestoreFailed is the exit status of the restore script when
// pg_restore failed and the scratch database was dropped.
const ExitRestoreFailed = 3

// RestoreFailed says, when the restore script exited with
// ExitRestoreFailed, that pg_restore failed and left the database as it
// was, with the end of its stderr. It is nil for any other exit, which the
// caller reports as it is.
func RestoreFailed(exitCode int, stderr string) error {
	if exitCode != ExitRestoreFailed {
		return nil
	}
	return fmt.Errorf("restore: pg_restore failed, and the database was not changed:\n%s", LastLines(stderr, 10))
}

// StoreRestoreTime reads the flags of restore --from-store: the store is
// required, and --time, when given, is RFC 3339. A zero time means the
// latest archived WAL.
func StoreRestoreTime(store Store, at string) (time.Time, error) {
	if !store.Enabled() {
		return time.Time{}, errors.New("--from-store needs the project's store: add --store s3://BUCKET/PREFIX and its other flags")
	}
	if at == "" {
		return time.Time{}, nil
	}
	return ParseRestoreTime(at)
}

// ParseStoreRangeOutput reads what `commandcenter-pg-store range` printed:
// pgBackRest's info on the first line, the archive's listing after it.
func ParseStoreRangeOutput(out string) (StoreRange, error) {
	info, archive, _ := strings.Cut(out, "\n")
	return ParseStoreRange(info, archive)
}

// StoreRestoreReport says what restore --from-store prepared.
func StoreRestoreReport(project, url string, target time.Time, backup string) string {
	return fmt.Sprintf("project %q: the next start restores the database from the store %s, to %s (base backup %s)",
		project, url, target.Format(time.RFC3339), backup)
}

// StoreCheckVerdict decides a start's check of the store: a store that
// does not answer (checkErr) fails the start, unless the project's
// postgres already runs, which keeps serving: then the failure is only a
// warning.
func StoreCheckVerdict(project string, checkErr error, postgresRuns bool) (warning string, err error) {
	if checkErr == nil {
		return "", nil
	}
	if postgresRuns {
		return fmt.Sprintf("project %q: %v\nIts postgres runs, and keeps serving: see `dagger call status` for its archiving", project, checkErr), nil
	}
	return "", checkErr
}
