package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"dagger/tests/internal/dagger"
)

// strandedWALPushedByStatus checks, once postgres was killed, that health
// (which only reads) says what only this engine holds, the killed server's
// last writes, and that status then pushes them to the store: its report
// has nothing only in this engine, and the project is durable again.
func strandedWALPushedByStatus(ctx context.Context, cc *dagger.Commandcenter) error {
	health, err := cc.Health(ctx)
	if err != nil || !strings.Contains(health, "protection: postgres does not run, and this engine holds WAL that the store lacks") {
		return fmt.Errorf("health after the kill: wanted the killed server's last writes shown as only in this engine, got %v:\n%s", err, health)
	}
	out, err := cc.Status(ctx)
	if err != nil {
		return fmt.Errorf("status after the kill: %w", err)
	}
	var st struct {
		Protection struct {
			Durable      bool   `json:"durable"`
			Warning      string `json:"warning"`
			OnlyInEngine string `json:"only_in_engine"`
		} `json:"protection"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return fmt.Errorf("status after the kill: wanted JSON, got %q", out)
	}
	if p := st.Protection; !p.Durable || p.OnlyInEngine != "" {
		return fmt.Errorf("status after the kill: wanted the killed server's WAL pushed to the store (durable, nothing only in this engine), got:\n%s", out)
	}
	return nil
}
