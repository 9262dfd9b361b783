package stack

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// HealthTable renders statuses as an aligned table, one line per service:
// SERVICE, STATUS (healthy or unhealthy), LATENCY (ms) and MESSAGE, then
// a line that says where the data is kept.
func HealthTable(statuses []ServiceStatus, p Protection) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "SERVICE\tSTATUS\tLATENCY\tMESSAGE")
	for _, st := range statuses {
		status := "unhealthy"
		if st.Healthy {
			status = "healthy"
		}
		fmt.Fprintf(w, "%s\t%s\t%dms\t%s\n", st.Service, status, st.LatencyMS, st.Message)
	}
	w.Flush()
	return b.String() + "\nprotection: " + p.Summary() + "\n"
}

// Summary is the protection in one line, for people.
func (p Protection) Summary() string {
	if !p.Durable {
		return p.Warning
	}
	return fmt.Sprintf("durable, in the store %s: WAL archived up to %s at %s; last base backup %s at %s; lease %s. Redis is %s",
		p.Store, p.LastArchivedWAL, p.LastArchivedAt, p.LastBackup, p.LastBackupAt, p.Lease, RedisNotInStore)
}

// LastLines returns the last n non-empty-trailing lines of s.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// Summary is the first non-blank line of s, cut to 200 bytes: a one-line
// message for a report.
func Summary(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			if len(line) > 200 {
				line = line[:200] + "..."
			}
			return line
		}
	}
	return ""
}
