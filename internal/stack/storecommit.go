package stack

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The last transaction that a restore to a point in time can reach.
// PostgreSQL (13 and later) stops a recovery that replays all the WAL it is
// given without reaching its target time ("recovery ended before configured
// recovery target was reached"), and pgBackRest records no commit times. So
// restore --from-store --time reads them from the archived WAL itself:
// CommitScan names the segments, newest first, that a restore to that time
// replays, `commandcenter-pg-store last-commit` reads them with pg_waldump
// until one holds the end of a transaction, and CheckReachable refuses a
// time after it.

// walSegmentSize is the size of a WAL segment: initdb's default, which the
// module keeps.
const walSegmentSize = 16 << 20

var (
	// walSegmentKey is an archived segment in pgBackRest's listing of
	// archive/STANZA: ARCHIVE-ID/TLI+LOG/TLI+LOG+SEG-CHECKSUM[.EXT]. A
	// .partial or .backup file does not match.
	walSegmentKey = regexp.MustCompile(`^([^/]+)/[0-9A-F]{16}/([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})-[0-9a-f]{40}(\.[a-z0-9]+)?$`)
	// historyKey is a timeline's history file: ARCHIVE-ID/TLI.history.
	historyKey = regexp.MustCompile(`^([^/]+)/([0-9A-F]{8})\.history$`)
)

// segmentRange is the WAL segments [from, to) that a timeline contributes
// to the history that a restore follows.
type segmentRange struct{ from, to uint64 }

// segmentNumber is a segment's position in the WAL from the log and
// segment parts of its name.
func segmentNumber(log, seg uint64) uint64 {
	return log*(1<<32/walSegmentSize) + seg
}

// parseSegmentName reads a 24-hex-digit segment name: its timeline and position.
func parseSegmentName(name string) (tli uint32, segno uint64, ok bool) {
	if len(name) != 24 {
		return 0, 0, false
	}
	t, err1 := strconv.ParseUint(name[:8], 16, 32)
	log, err2 := strconv.ParseUint(name[8:16], 16, 32)
	seg, err3 := strconv.ParseUint(name[16:], 16, 32)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, false
	}
	return uint32(t), segmentNumber(log, seg), true
}

// newestTimeline is the highest timeline in the current archive, and the
// key of its history file ("" for timeline 1, or when it is missing).
func (r StoreRange) newestTimeline() (uint32, string) {
	newest, histories := uint32(1), map[uint32]string{}
	for _, k := range r.keys {
		for _, re := range []*regexp.Regexp{historyKey, walSegmentKey} {
			if m := re.FindStringSubmatch(k); m != nil && m[1] == r.archiveID {
				t, _ := strconv.ParseUint(m[2], 16, 32)
				newest = max(newest, uint32(t))
				if re == historyKey {
					histories[uint32(t)] = k
				}
			}
		}
	}
	return newest, histories[newest]
}

// HistoryKey names the history file of the archive's newest timeline,
// which a restore follows (PostgreSQL's recovery_target_timeline=latest),
// or "" when that is timeline 1, which has none.
func (r StoreRange) HistoryKey() string {
	_, key := r.newestTimeline()
	return key
}

// timelineRanges maps each timeline on the way to newest to the segments
// it contributes, from its history file (lines "PARENT-TLI SWITCH-LSN
// REASON"). A child's first segment holds its parent's WAL up to the
// switch, so a parent contributes the segments before the one that holds
// the switch.
func timelineRanges(newest uint32, history string) (map[uint32]segmentRange, error) {
	ranges := map[uint32]segmentRange{}
	from := uint64(0)
	for _, line := range strings.Split(history, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		tli, err := strconv.ParseUint(fields[0], 10, 32)
		hi, lo, ok := strings.Cut(fieldOr(fields, 1), "/")
		h, err1 := strconv.ParseUint(hi, 16, 32)
		l, err2 := strconv.ParseUint(lo, 16, 32)
		if err != nil || !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("read the history of timeline %d in the store: %q is not \"TLI LSN REASON\"", newest, line)
		}
		to := (h<<32 | l) / walSegmentSize
		ranges[uint32(tli)] = segmentRange{from, to}
		from = to
	}
	if newest > 1 && len(ranges) == 0 {
		return nil, fmt.Errorf("the store holds WAL of timeline %d but not its history file: a restore cannot follow it", newest)
	}
	ranges[newest] = segmentRange{from, ^uint64(0)}
	return ranges, nil
}

func fieldOr(fields []string, i int) string {
	if i < len(fields) {
		return fields[i]
	}
	return ""
}

// CommitScan names, newest first, the archived WAL segments (keys under
// archive/STANZA) that a restore from the base backup label replays to the
// end of the archive's newest timeline; history is that timeline's history
// file (HistoryKey), "" on timeline 1. The last transaction such a restore
// can reach is in the first of them that holds one.
func (r StoreRange) CommitScan(label, history string) ([]string, error) {
	newest, _ := r.newestTimeline()
	ranges, err := timelineRanges(newest, history)
	if err != nil {
		return nil, err
	}
	start := uint64(0)
	for _, b := range r.ends {
		if _, segno, ok := parseSegmentName(b.walStart); ok && b.label == label {
			start = segno
		}
	}
	type segment struct {
		key   string
		segno uint64
	}
	var segments []segment
	for _, k := range r.keys {
		m := walSegmentKey.FindStringSubmatch(k)
		if m == nil || m[1] != r.archiveID {
			continue
		}
		tli, segno, _ := parseSegmentName(m[2] + m[3] + m[4])
		if span, on := ranges[tli]; on && segno >= span.from && segno < span.to && segno >= start {
			segments = append(segments, segment{k, segno})
		}
	}
	slices.SortFunc(segments, func(a, b segment) int { return cmp.Compare(b.segno, a.segno) })
	keys := make([]string, len(segments))
	for i, s := range segments {
		keys[i] = s.key
	}
	return keys, nil
}

// CheckReachable refuses a point in time target that no transaction of
// the archive reaches, from what `commandcenter-pg-store last-commit` found
// in the segments of CommitScan: "KEY YYYY-MM-DD HH:MM:SS.ffffff", the time
// (UTC) of the last commit or abort, or nothing when none holds one. label
// is the base backup that a restore to target starts from.
func (r StoreRange) CheckReachable(project string, target time.Time, label, found string) error {
	at := target.UTC().Format(time.RFC3339Nano)
	found = strings.TrimSpace(found)
	if found == "" {
		return fmt.Errorf("--time %s: the store's archive holds no transaction of project %q after its base backup %s, from which a restore to that time starts: PostgreSQL would replay it all without reaching that time, and stop. Leave --time out to restore to the end of the archive; the data was not changed", at, project, label)
	}
	_, stamp, _ := strings.Cut(found, " ")
	last, err := time.Parse("2006-01-02 15:04:05.999999999", stamp)
	if err != nil {
		return fmt.Errorf("read the last transaction in the store's archive: %q is not \"KEY TIME\"", found)
	}
	if target.After(last) {
		end := last.Format(time.RFC3339Nano)
		return fmt.Errorf("--time %s is after the last transaction that the store's archive holds for project %q, which ended at %s: PostgreSQL would replay the whole archive without reaching that time, and stop. Give a time up to it (--time %s), or leave --time out to restore to the end of the archive; the data was not changed", at, project, end, end)
	}
	return nil
}

// BackupOnHistory names the base backup that a restore to target starts
// from: the newest that ended at or before target among those on the
// newest timeline's history (history, as for CommitScan). A backup taken
// on a branch that a later point-in-time restore abandoned cannot start a
// recovery that follows the newest timeline (PostgreSQL: "requested
// timeline is not a child of this server's history"), though it may be
// the newest in time: pgBackRest, which picks by time alone, is then told
// which one (--set). A backup that began in the segment of a switch counts
// as off the history: an older one is then used, which replays longer.
func (r StoreRange) BackupOnHistory(project string, target time.Time, history string) (string, error) {
	newest, _ := r.newestTimeline()
	ranges, err := timelineRanges(newest, history)
	if err != nil {
		return "", err
	}
	label := ""
	for _, b := range r.ends {
		tli, segno, ok := parseSegmentName(b.walStart)
		span, on := ranges[tli]
		if ok && on && segno >= span.from && segno < span.to && !b.stop.After(target) {
			label = b.label
		}
	}
	if label == "" {
		return "", fmt.Errorf("--time %s: the store holds no base backup of project %q that ended before that time on the history that restores follow (timeline %d): leave --time out, or give a later time; the data was not changed",
			target.UTC().Format(time.RFC3339Nano), project, newest)
	}
	return label, nil
}
