package main

import (
	"context"
	"fmt"
	"strings"
)

// Logs("postgres") holds the server's ready line, and a tail of 3 gives exactly the last 3 lines.
//
// +check
func (m *Tests) LogsHoldReadyLineAndHonourTail(ctx context.Context) error {
	cc, err := sharedStack(ctx)
	if err != nil {
		return err
	}
	three, err := serviceLogs(ctx, cc, "postgres", 3)
	if err != nil {
		return err
	}
	if n := strings.Count(three, "\n"); n != 3 {
		return fmt.Errorf("Logs(postgres, 3): wanted 3 lines, got %d:\n%s", n, three)
	}
	logs, err := serviceLogs(ctx, cc, "postgres", 10000)
	if err != nil {
		return err
	}
	if n := strings.Count(logs, "\n"); n <= 3 {
		return fmt.Errorf("Logs(postgres, 10000): wanted the whole log, more than 3 lines, got %d:\n%s", n, logs)
	}
	if !strings.Contains(logs, "database system is ready to accept connections") {
		return fmt.Errorf("Logs(postgres, 10000): wanted the ready line, got:\n%s", logs)
	}
	// Other tests use this postgres meanwhile, so its log may grow between
	// the two reads; the last 3 lines of the first read are still in it.
	if !strings.Contains(logs, three) {
		return fmt.Errorf("Logs(postgres, 3): wanted the log's last lines, got lines that are not in the whole log:\n%s", three)
	}
	return nil
}
