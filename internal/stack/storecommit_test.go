package stack

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// branchedInfo and branchedArchive are a store as measured through the lab
// engine (pgBackRest 2.45): a base backup on timeline 1, WAL up to segment
// 5, a point-in-time restore to segment 3 (timeline 2, whose history file
// names the switch), a backup on timeline 2, and a second point-in-time
// restore from timeline 1 that made timeline 3 at segment 2.
const branchedInfo = `[{"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1","max":"000000030000000000000003","min":"000000010000000000000001"}],
"backup":[{"archive":{"start":"000000010000000000000002","stop":"000000010000000000000002"},"label":"20261206-022030F","timestamp":{"start":1765000000,"stop":1765000010}},
{"archive":{"start":"000000020000000000000004","stop":"000000020000000000000004"},"label":"20261206-022200F","timestamp":{"start":1765000100,"stop":1765000110}}],
"name":"shop","status":{"code":0,"message":"ok"}}]`

const branchedArchive = `{".":{"type":"path"},"15-1":{"type":"path"},"archive.info":{"type":"file","time":1},
"15-1/0000000100000000/000000010000000000000001-feddc879597f15ae0bda0ee8514ed9d41b7d1582.lz4":{"type":"file","time":1765000000},
"15-1/0000000100000000/000000010000000000000002-6216b7c676a3f00d4b728487cab147062291741d.lz4":{"type":"file","time":1765000010},
"15-1/0000000100000000/000000010000000000000002.00000028.backup":{"type":"file","time":1765000010},
"15-1/0000000100000000/000000010000000000000003-02be1986306d68c941e8af2d7a7e200a81dcd71f.lz4":{"type":"file","time":1765000020},
"15-1/0000000100000000/000000010000000000000004-02be1986306d68c941e8af2d7a7e200a81dcd71f.lz4":{"type":"file","time":1765000030},
"15-1/0000000100000000/000000010000000000000005.partial-02be1986306d68c941e8af2d7a7e200a81dcd71f.lz4":{"type":"file","time":1765000040},
"15-1/00000002.history":{"type":"file","time":1765000050},
"15-1/0000000200000000/000000020000000000000003-260847e368e2762e8b5f1ba12fc6ec317c4e6bd2.lz4":{"type":"file","time":1765000060},
"15-1/0000000200000000/000000020000000000000004-260847e368e2762e8b5f1ba12fc6ec317c4e6bd2.lz4":{"type":"file","time":1765000110},
"15-1/00000003.history":{"type":"file","time":1765000200},
"15-1/0000000300000000/000000030000000000000002-360847e368e2762e8b5f1ba12fc6ec317c4e6bd2.lz4":{"type":"file","time":1765000210},
"15-1/0000000300000000/000000030000000000000003-360847e368e2762e8b5f1ba12fc6ec317c4e6bd2.lz4":{"type":"file","time":1765000220},
"14-1/0000000900000000/000000090000000000000009-460847e368e2762e8b5f1ba12fc6ec317c4e6bd2.lz4":{"type":"file","time":1}}`

func TestCommitScanFollowsTheNewestTimelinesHistory(t *testing.T) {
	r, err := ParseStoreRange(branchedInfo, branchedArchive)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.HistoryKey(); got != "15-1/00000003.history" {
		t.Fatalf("HistoryKey() = %q, want the newest timeline's", got)
	}
	const (
		tl1seg1 = "15-1/0000000100000000/000000010000000000000001-feddc879597f15ae0bda0ee8514ed9d41b7d1582.lz4"
		tl1seg2 = "15-1/0000000100000000/000000010000000000000002-6216b7c676a3f00d4b728487cab147062291741d.lz4"
		tl3seg2 = "15-1/0000000300000000/000000030000000000000002-360847e368e2762e8b5f1ba12fc6ec317c4e6bd2.lz4"
		tl3seg3 = "15-1/0000000300000000/000000030000000000000003-360847e368e2762e8b5f1ba12fc6ec317c4e6bd2.lz4"
	)
	tests := []struct {
		name, label, history string
		want                 []string
	}{
		{"timeline 3 from timeline 1 at segment 2: timeline 2 is not on its way, nor timeline 1 after the switch",
			"20261206-022030F", "1\t0/2016048\tbefore 2026-12-06 02:20:56.631367+00\n",
			[]string{tl3seg3, tl3seg2}},
		{"a switch at a segment's start: the parent's segment before it is on the way",
			"20261206-022030F", "1\t0/3000000\tno recovery target specified\n",
			[]string{tl3seg3, tl1seg2}},
		{"from a backup unknown to the listing: every segment on the way",
			"", "1\t0/3016048\tbefore 2026-12-06 02:20:56.631367+00\n",
			[]string{tl3seg3, tl1seg2, tl1seg1}},
	}
	for _, tt := range tests {
		got, err := r.CommitScan(tt.label, tt.history)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: CommitScan() mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestCommitScanOnTheFirstTimelineStartsAtTheBackup(t *testing.T) {
	r, err := ParseStoreRange(infoJSON, archiveJSON)
	if err != nil {
		t.Fatal(err)
	}
	if key := r.HistoryKey(); key != "" {
		t.Errorf("HistoryKey() on timeline 1 = %q, want none", key)
	}
	got, err := r.CommitScan("20261202-100000F", "")
	if err != nil || len(got) != 0 {
		// the fixture's checksums are not pgBackRest's 40 hex digits: no segment matches
		t.Errorf("CommitScan() over keys that are no segments = %v, %v; want none", got, err)
	}
	r.keys = []string{
		"15-1/0000000100000000/000000010000000000000003-0123456789012345678901234567890123456789.lz4",
		"15-1/0000000100000000/000000010000000000000005-0123456789012345678901234567890123456789.gz",
		"15-1/0000000100000000/00000001000000000000000A-0123456789012345678901234567890123456789",
	}
	r.ends[1].walStart = "000000010000000000000005"
	got, err = r.CommitScan("20261202-100000F", "")
	want := []string{r.keys[2], r.keys[1]}
	if diff := cmp.Diff(want, got); err != nil || diff != "" {
		t.Errorf("CommitScan() from the backup's first segment (%v) mismatch (-want +got):\n%s", err, diff)
	}
}

func TestCommitScanNeedsTheNewestTimelinesHistory(t *testing.T) {
	r, err := ParseStoreRange(branchedInfo, branchedArchive)
	if err != nil {
		t.Fatal(err)
	}
	for _, history := range []string{"", "1\tnot-an-lsn\treason\n"} {
		if _, err := r.CommitScan("20261206-022030F", history); err == nil || !strings.Contains(err.Error(), "timeline 3") {
			t.Errorf("CommitScan() with history %q: got %v, want an error naming timeline 3", history, err)
		}
	}
}

func TestCheckReachableRefusesATimeAfterTheLastTransaction(t *testing.T) {
	r := StoreRange{}
	last := "15-1/0000000100000000/000000010000000000000003-x.lz4 2026-12-06 02:20:54.306134\n"
	tests := []struct {
		name, found string
		target      time.Time
		want        []string
	}{
		{"before the last commit", last, time.Date(2026, 12, 6, 2, 20, 0, 0, time.UTC), nil},
		{"at the last commit", last, time.Date(2026, 12, 6, 2, 20, 54, 306134000, time.UTC), nil},
		{"after the last commit", last, time.Date(2026, 12, 6, 2, 28, 0, 0, time.UTC),
			[]string{"which ended at 2026-12-06T02:20:54.306134Z", "--time 2026-12-06T02:20:54.306134Z", "eave --time out", "the data was not changed"}},
		{"no transaction after the backup", "", time.Date(2026, 12, 6, 2, 28, 0, 0, time.UTC),
			[]string{"no transaction of project \"shop\" after its base backup 20261206-022030F", "eave --time out", "the data was not changed"}},
		{"not pg-store's output", "15-1/x yesterday", time.Date(2026, 12, 6, 2, 28, 0, 0, time.UTC), []string{"is not \"KEY TIME\""}},
	}
	for _, tt := range tests {
		err := r.CheckReachable("shop", tt.target, "20261206-022030F", tt.found)
		if tt.want == nil {
			if err != nil {
				t.Errorf("%s: got %v, want no refusal", tt.name, err)
			}
			continue
		}
		for _, part := range tt.want {
			if err == nil || !strings.Contains(err.Error(), part) {
				t.Errorf("%s: got %v, want an error with %q", tt.name, err, part)
			}
		}
	}
}

func TestBackupOnHistorySkipsAnAbandonedBranch(t *testing.T) {
	r, err := ParseStoreRange(branchedInfo, branchedArchive)
	if err != nil {
		t.Fatal(err)
	}
	onTimeline2 := r
	onTimeline2.keys = nil
	for _, k := range r.keys {
		if !strings.Contains(k, "00000003") {
			onTimeline2.keys = append(onTimeline2.keys, k)
		}
	}
	const fromTimeline1 = "1\t0/3016048\tbefore 2026-12-06 02:20:56.631367+00\n"
	tests := []struct {
		name    string
		held    StoreRange
		target  int64
		history string
		want    string
	}{
		{"timeline 3 branched from 1: the newer backup, on timeline 2, is off its history", r, 1765000500, fromTimeline1, "20261206-022030F"},
		{"timeline 2 newest: its own backup", onTimeline2, 1765000500, fromTimeline1, "20261206-022200F"},
		{"timeline 2 newest, a time before its backup ended: the older one", onTimeline2, 1765000100, fromTimeline1, "20261206-022030F"},
		{"a time before every backup ended", r, 1765000005, fromTimeline1, ""},
	}
	for _, tt := range tests {
		got, err := tt.held.BackupOnHistory("shop", time.Unix(tt.target, 0), tt.history)
		if tt.want == "" {
			if err == nil || !strings.Contains(err.Error(), "no base backup") || !strings.Contains(err.Error(), "not changed") {
				t.Errorf("%s: got %q, %v; want a refusal", tt.name, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}
