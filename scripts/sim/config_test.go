package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestLatencyMix(t *testing.T) {
	m, err := parseMix("10ms:1,50ms:2,150ms:1")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		u    float64
		want time.Duration
	}{{0, 10 * time.Millisecond}, {0.24, 10 * time.Millisecond}, {0.26, 50 * time.Millisecond}, {0.74, 50 * time.Millisecond}, {0.99, 150 * time.Millisecond}} {
		if got := m.pick(c.u); got != c.want {
			t.Errorf("pick(%v) = %s, want %s", c.u, got, c.want)
		}
	}
	if got := m.mean(); got != 65*time.Millisecond {
		t.Errorf("mean = %s, want 65ms", got)
	}
	for _, bad := range []string{"fast", "10ms:-1", "-5ms:1", "10ms:x"} {
		if _, err := parseMix(bad); err == nil {
			t.Errorf("parseMix(%q) accepted", bad)
		}
	}
}

func TestFlagsAreChecked(t *testing.T) {
	for _, args := range [][]string{
		{"--peers", "1"}, {"--churn", "1.5"}, {"--content", "0"}, {"--seeds", "100"}, {"--providers", "ours,theirs"}, {"extra"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%s accepted", strings.Join(args, " "))
		}
	}
	c, err := parseFlags([]string{"--peers", "1000", "--lookups", "500", "--churn", "0.3", "--out", "x"}, io.Discard)
	if err != nil || c.Peers != 1000 || c.Lookups != 500 || c.Churn != 0.3 || c.Out != "x" {
		t.Fatalf("parseFlags: %+v, %v", c, err)
	}
}
