package main

import (
	"context"
	"fmt"
	"strings"
)

// Logs("postgres", 20) holds the server's ready line, and tail is honoured.
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
	logs, err := serviceLogs(ctx, cc, "postgres", 20)
	if err != nil {
		return err
	}
	if n := strings.Count(logs, "\n"); n != 20 {
		return fmt.Errorf("Logs(postgres, 20): wanted 20 lines, got %d:\n%s", n, logs)
	}
	if !strings.Contains(logs, "database system is ready to accept connections") {
		return fmt.Errorf("Logs(postgres, 20): wanted the ready line, got:\n%s", logs)
	}
	// Other tests use this postgres meanwhile, so its log may grow between
	// the two reads, but not by 17 lines.
	if !strings.Contains(logs, three) {
		return fmt.Errorf("Logs(postgres, 3): wanted the log's last lines, got lines that are not among the last 20:\n%s", three)
	}
	return nil
}
