package main

import (
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/osprobe"
	"github.com/wsreactor/wsreactor/service"
)

// TestFlagMaxConns: -max-conns accepts -1, 0 and counts, nothing below -1.
func TestFlagMaxConns(t *testing.T) {
	for _, v := range []string{"-1", "0", "1", "100000"} {
		if _, err := parseFlags(newFlagSet(), []string{"-max-conns", v}); err != nil {
			t.Errorf("-max-conns %s: %v", v, err)
		}
	}
	fs := newFlagSet()
	fs.SetOutput(io.Discard)
	if _, err := parseFlags(fs, []string{"-max-conns", "-2"}); err == nil || !strings.Contains(err.Error(), "-max-conns -2") {
		t.Errorf("-max-conns -2: %v; want an error quoting it", err)
	}
}

// TestReadBufferFlag: -read-buffer defaults to service.DefaultReadBuffer
// (512 KiB) and takes 1 KiB to 64 MiB with units; one byte either side of
// the range, and many past it, are refused with the value quoted. The
// default reaches service.Config, which gives it to the reactor.
func TestReadBufferFlag(t *testing.T) {
	cfg, err := parseFlags(newFlagSet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ReadBuffer != service.DefaultReadBuffer || service.DefaultReadBuffer != 512<<10 {
		t.Errorf("default -read-buffer %d; want %d (512 KiB)", cfg.ReadBuffer, service.DefaultReadBuffer)
	}
	for v, want := range map[string]int{"1KiB": 1 << 10, "1024": 1 << 10, "64KiB": 64 << 10, "1MiB": 1 << 20, "64MiB": 64 << 20} {
		if cfg, err := parseFlags(newFlagSet(), []string{"-read-buffer", v}); err != nil || cfg.ReadBuffer != want {
			t.Errorf("-read-buffer %s: %d, %v; want %d", v, cfg.ReadBuffer, err, want)
		}
	}
	for _, v := range []string{"1023", "0", "67108865", "1GiB"} {
		fs := newFlagSet()
		fs.SetOutput(io.Discard)
		if _, err := parseFlags(fs, []string{"-read-buffer", v}); err == nil || !strings.Contains(err.Error(), "-read-buffer "+v+": want 1KiB to 64MiB") {
			t.Errorf("-read-buffer %s: %v; want an error quoting it and the range", v, err)
		}
	}
}

// TestIdleHoldFlag: the default, the edges 0 (no hold) and 1s, and one
// past each refused with the value quoted.
func TestIdleHoldFlag(t *testing.T) {
	cfg, err := parseFlags(newFlagSet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.IdleHold != service.DefaultIdleHold || service.DefaultIdleHold <= 0 {
		t.Errorf("default -idle-hold %v; want %v (> 0)", cfg.IdleHold, service.DefaultIdleHold)
	}
	for v, want := range map[string]time.Duration{"0": 0, "1ms": time.Millisecond, "500us": 500 * time.Microsecond, "1s": time.Second} {
		if cfg, err := parseFlags(newFlagSet(), []string{"-idle-hold", v}); err != nil || cfg.IdleHold != want {
			t.Errorf("-idle-hold %s: %v, %v; want %v", v, cfg.IdleHold, err, want)
		}
	}
	for _, c := range []struct{ v, quoted, why string }{
		{"1.001s", "1.001s", "at most 1s"}, {"2m", "2m0s", "at most 1s"}, {"-1ns", "-1ns", "must not be negative"},
	} {
		fs := newFlagSet()
		fs.SetOutput(io.Discard)
		if _, err := parseFlags(fs, []string{"-idle-hold", c.v}); err == nil || !strings.Contains(err.Error(), "-idle-hold "+c.quoted+": "+c.why) {
			t.Errorf("-idle-hold %s: %v; want an error quoting it and %q", c.v, err, c.why)
		}
	}
}

// TestMemoryBudgetFlag: the default is a quarter of the machine's (or
// cgroup's) memory, 0 turns the budget off, a negative budget is refused
// with the value quoted.
func TestMemoryBudgetFlag(t *testing.T) {
	cfg, err := parseFlags(newFlagSet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := service.DefaultMemoryBudget(); cfg.MemoryBudget != want || want <= 0 {
		t.Errorf("default -memory-budget %d; want %d (> 0)", cfg.MemoryBudget, want)
	}
	if total := osprobe.MemTotal(); total > 0 && cfg.MemoryBudget > total/4 {
		t.Errorf("default -memory-budget %d is more than a quarter of MemTotal %d", cfg.MemoryBudget, total)
	}
	if cfg, err := parseFlags(newFlagSet(), []string{"-memory-budget", "0"}); err != nil || cfg.MemoryBudget != 0 {
		t.Errorf("-memory-budget 0: %d, %v; want 0 (off)", cfg.MemoryBudget, err)
	}
	if _, err := parseFlags(newFlagSet(), []string{"-memory-budget", "-1"}); err == nil || !strings.Contains(err.Error(), `-memory-budget "-1": negative`) {
		t.Errorf("-memory-budget -1: %v; want an error quoting it", err)
	}
}

// TestProxyFlags: -proxy-from takes prefixes and addresses, refuses junk,
// and means nothing without -proxy-protocol.
func TestProxyFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // prefixes, or an error substring
	}{
		{[]string{"-proxy-protocol"}, "[127.0.0.0/8 ::1/128]"},
		{[]string{"-proxy-protocol", "-proxy-from", "10.1.2.3, 10.0.0.0/8 ,2001:db8::/32"}, "[10.1.2.3/32 10.0.0.0/8 2001:db8::/32]"},
		{[]string{"-proxy-protocol", "-proxy-from", "10.0.0.9/8"}, "[10.0.0.0/8]"},
		{[]string{"-proxy-protocol", "-proxy-from", "10.0.0/8"}, `"10.0.0/8" is neither a CIDR prefix`},
		{[]string{"-proxy-protocol", "-proxy-from", "fe80::1%eth0"}, "is neither"},
		{[]string{"-proxy-protocol", "-proxy-from", " , "}, "no prefix given"},
		{[]string{"-proxy-from", "10.0.0.0/8"}, "without -proxy-protocol"},
		{nil, "[]"},
	} {
		cfg, err := parseFlags(newFlagSet(), c.args)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = "[" + fmtPrefixes(cfg.ProxyFrom) + "]"
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("parseFlags(%q) = %s; want %s", c.args, got, c.want)
		}
	}
}

// TestProxyFlagsFromEnvironment: WSREACTOR_PROXY_PROTOCOL and
// WSREACTOR_PROXY_FROM work like the flags, and the command line wins.
func TestProxyFlagsFromEnvironment(t *testing.T) {
	t.Setenv("WSREACTOR_PROXY_FROM", "10.0.0.0/8")
	if _, err := parseFlags(newFlagSet(), nil); err == nil || !strings.Contains(err.Error(), "without -proxy-protocol") {
		t.Fatalf("WSREACTOR_PROXY_FROM alone: %v; want the error that it needs -proxy-protocol", err)
	}
	t.Setenv("WSREACTOR_PROXY_PROTOCOL", "true")
	cfg, err := parseFlags(newFlagSet(), nil)
	if err != nil || !cfg.ProxyProtocol || fmtPrefixes(cfg.ProxyFrom) != "10.0.0.0/8" {
		t.Fatalf("from the environment: %v, %v, %s", err, cfg.ProxyProtocol, fmtPrefixes(cfg.ProxyFrom))
	}
	cfg, err = parseFlags(newFlagSet(), []string{"-proxy-from", "192.0.2.7"})
	if err != nil || fmtPrefixes(cfg.ProxyFrom) != "192.0.2.7/32" {
		t.Fatalf("command line over the environment: %v, %s", err, fmtPrefixes(cfg.ProxyFrom))
	}
}

func fmtPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, " ")
}
