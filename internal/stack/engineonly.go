package stack

import (
	"fmt"
	"strings"
)

// WALSpoolOut is where pgBackRest's asynchronous archive-push acknowledges
// each segment of project it has stored in the store (SEGMENT.ok): until
// then the segment, marked .ready by PostgreSQL, is only in this engine.
func WALSpoolOut(project string) string {
	return StoreSpoolDir + "/archive/" + project + "/out"
}

// clusterInProduction is pg_controldata's state of a data directory whose
// server runs or was killed; a clean stop leaves "shut down".
const clusterInProduction = "in production"

// OnlyInEngine says which of postgres's WAL is in this engine only, from
// what commandcenter-status read of its data volume (wal_unarchived: the
// .ready segments the store has not acknowledged; wal_cluster_state:
// pg_controldata's state) and of its archiving (archive_wal, archive_at).
// While the server runs, that is the writes since its last archived
// segment (archived within about 60 s) and the segments waiting for the
// archiver. When it does not run, nothing archives them until the
// project's next start (or restore --from-store, or reset --local-only,
// which push them first): stranded is then true.
func OnlyInEngine(f map[string]string, running bool) (what string, stranded bool) {
	var parts []string
	if segments := strings.Fields(f["wal_unarchived"]); len(segments) > 0 {
		parts = append(parts, fmt.Sprintf("%d WAL segment(s) not yet in the store (%s)", len(segments), segmentSpan(segments)))
	}
	switch {
	case running:
		parts = append(parts, "the writes since the last archived segment ("+lastArchived(f)+"), until theirs is archived (within about 60 s)")
	case f["wal_cluster_state"] == clusterInProduction:
		parts = append(parts, "what the killed server wrote after its last archived segment ("+lastArchived(f)+")")
	}
	if len(parts) == 0 {
		return "", false
	}
	return strings.Join(parts, "; and "), !running
}

func lastArchived(f map[string]string) string {
	if f["archive_wal"] == "" {
		return "none yet"
	}
	return f["archive_wal"] + ", at " + f["archive_at"]
}

// segmentSpan names the first and the last of segments.
func segmentSpan(segments []string) string {
	if len(segments) == 1 {
		return segments[0]
	}
	return segments[0] + " to " + segments[len(segments)-1]
}

// strandedWarning is the protection's warning when postgres does not run
// and this engine holds WAL the store lacks.
func strandedWarning(what string) string {
	return "postgres does not run, and this engine holds WAL that the store lacks: " + what +
		". Its next start archives it; restore --from-store and reset --local-only push it before they drop this copy. " +
		"Until then, the loss of the engine's cache loses those writes"
}
