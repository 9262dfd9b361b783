package stack

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// StoreRange is the span of time to which the store can bring the
// project's database back: from the end of its oldest base backup to its
// latest archived WAL.
type StoreRange struct {
	Oldest, Latest time.Time
	// Backups counts the base backups, LatestBackup names the newest.
	Backups      int
	LatestBackup string
	// ends maps each backup's label to the time it ended, oldest first.
	ends []backupEnd
	// archiveID is the archive of the stanza's current database
	// ("15-1"), keys the files of the archive listing (WAL segments,
	// history files), relative to archive/STANZA.
	archiveID string
	keys      []string
}

type backupEnd struct {
	label string
	stop  time.Time
	// walStart is the first WAL segment that a restore from it replays.
	walStart string
}

type pgbackrestInfo []struct {
	Archive []struct {
		ID string `json:"id"`
	} `json:"archive"`
	Backup []struct {
		Label   string `json:"label"`
		Archive struct {
			Start string `json:"start"`
		} `json:"archive"`
		Timestamp struct {
			Stop int64 `json:"stop"`
		} `json:"timestamp"`
	} `json:"backup"`
	Status struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
}

type repoEntry struct {
	Type string `json:"type"`
	Time int64  `json:"time"`
}

// ParseStoreRange reads `pgbackrest info --output=json` and `pgbackrest
// repo-ls --recurse --output=json` of the stanza's archive directory.
func ParseStoreRange(info, archive string) (StoreRange, error) {
	var stanzas pgbackrestInfo
	if err := json.Unmarshal([]byte(info), &stanzas); err != nil || len(stanzas) != 1 {
		return StoreRange{}, fmt.Errorf("read pgbackrest info: %q", Summary(info))
	}
	st := stanzas[0]
	if st.Status.Code != 0 && st.Status.Code != 2 && st.Status.Code != 1 {
		return StoreRange{}, fmt.Errorf("the store: %s", st.Status.Message)
	}
	var r StoreRange
	for _, b := range st.Backup {
		stop := time.Unix(b.Timestamp.Stop, 0).UTC()
		if r.Backups == 0 || stop.Before(r.Oldest) {
			r.Oldest = stop
		}
		r.Backups++
		r.LatestBackup = b.Label
		r.ends = append(r.ends, backupEnd{b.Label, stop, b.Archive.Start})
	}
	if n := len(st.Archive); n > 0 {
		r.archiveID = st.Archive[n-1].ID
	}
	if r.Backups == 0 {
		return r, nil
	}
	r.Latest = r.Oldest
	var files map[string]repoEntry
	if err := json.Unmarshal([]byte(archive), &files); err != nil {
		return StoreRange{}, fmt.Errorf("read the store's archive listing: %q", Summary(archive))
	}
	for name, f := range files {
		if f.Type != "file" || strings.HasSuffix(name, ".info") || strings.HasSuffix(name, ".copy") {
			continue
		}
		r.keys = append(r.keys, name)
		if t := time.Unix(f.Time, 0).UTC(); t.After(r.Latest) {
			r.Latest = t
		}
	}
	return r, nil
}

// Check refuses a point in time that the store cannot bring back.
func (r StoreRange) Check(project string, target time.Time) error {
	if r.Backups == 0 {
		return fmt.Errorf("--from-store: the store holds no base backup of project %q: there is nothing to restore; the data was not changed", project)
	}
	if target.Before(r.Oldest) || target.After(r.Latest) {
		return fmt.Errorf("--time %s is outside what the store holds for project %q: from %s (end of its oldest base backup) to %s (its latest archived WAL); the data was not changed",
			target.UTC().Format(time.RFC3339), project, r.Oldest.Format(time.RFC3339), r.Latest.Format(time.RFC3339))
	}
	return nil
}

// BackupFor names the base backup that a restore to target starts from,
// as pgBackRest chooses it: the newest that ended at or before target.
func (r StoreRange) BackupFor(target time.Time) string {
	label := r.LatestBackup
	for _, b := range r.ends {
		if !b.stop.After(target) {
			label = b.label
		}
	}
	return label
}

// Plan is where restore --from-store takes project: at, or the latest
// archived WAL when at is zero (no --time). recovery is PostgreSQL's
// recovery target, "" for the end of the archive. A point the store cannot
// bring back is refused.
func (r StoreRange) Plan(project string, at time.Time) (target time.Time, recovery string, err error) {
	target = at
	if at.IsZero() {
		target = r.Latest
	} else {
		recovery = RecoveryTarget(at)
	}
	if err := r.Check(project, target); err != nil {
		return time.Time{}, "", err
	}
	return target, recovery, nil
}

// ParseRestoreTime reads --time: RFC 3339, e.g. 2026-12-01T10:00:00Z.
func ParseRestoreTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--time %q: want an RFC 3339 time with its zone, e.g. 2026-12-01T10:00:00Z", s)
	}
	return t, nil
}

// RecoveryTarget renders t as PostgreSQL's recovery_target_time reads it.
func RecoveryTarget(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.000000") + "+00"
}
