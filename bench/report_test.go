package main

import (
	"math"
	"reflect"
	"testing"
)

func TestArchivingTarget(t *testing.T) {
	tests := []struct {
		name        string
		with        []float64
		without     []float64
		wantLost    float64
		wantMet     bool
		wantMissing []string
	}{
		{"5 % fewer TPS", []float64{950, 900, 1000}, []float64{1000, 1000, 1100}, 0.05, true, nil},
		{"exactly 10 %", []float64{900}, []float64{1000}, 0.10, true, nil},
		{"20 % fewer TPS", []float64{800, 790, 810}, []float64{1000, 990, 1010}, 0.20, false, nil},
		{"faster with the store", []float64{1100}, []float64{1000}, -0.10, true, nil},
		{"no run with the store", nil, []float64{1000}, 1, false, []string{"store/pgbench-archiving-tps"}},
		{"no run without it", []float64{1000}, nil, 1, false, []string{"store/pgbench-plain-tps"}},
	}
	for _, tt := range tests {
		r := Report{ArchivingOnly: true, Samples: map[string][]float64{}}
		if tt.with != nil {
			r.Samples["store/pgbench-archiving-tps"] = tt.with
		}
		if tt.without != nil {
			r.Samples["store/pgbench-plain-tps"] = tt.without
		}
		r.evaluate()
		if len(r.Targets) != 1 {
			t.Fatalf("%s: wanted the archiving target alone, got %+v", tt.name, r.Targets)
		}
		got := r.Targets[0]
		if math.Abs(got.Value-tt.wantLost) > 1e-9 || got.Met != tt.wantMet || !reflect.DeepEqual(got.Missing, tt.wantMissing) || r.AllMet != tt.wantMet {
			t.Errorf("%s: got %+v (all met %v); want lost %.2f, met %v, missing %v", tt.name, got, r.AllMet, tt.wantLost, tt.wantMet, tt.wantMissing)
		}
	}
}
