package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"dagger/tests/internal/dagger"
)

// strandedWALShown checks, once postgres was killed, that status and
// health say what only this engine holds: the killed server's last
// writes, which no archiver pushes until the project's next start (or the
// drill), so the project is not durable meanwhile.
func strandedWALShown(ctx context.Context, cc *dagger.Commandcenter) error {
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
	p := st.Protection
	if p.Durable || !strings.Contains(p.OnlyInEngine, "what the killed server wrote after its last archived segment") ||
		!strings.Contains(p.Warning, "this engine holds WAL that the store lacks") {
		return fmt.Errorf("status after the kill: wanted not durable, and the killed server's last writes only in this engine, got:\n%s", out)
	}
	health, err := cc.Health(ctx)
	if err != nil || !strings.Contains(health, "protection: postgres does not run, and this engine holds WAL that the store lacks") {
		return fmt.Errorf("health after the kill: wanted the same warning, got %v:\n%s", err, health)
	}
	return nil
}
