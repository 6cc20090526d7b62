package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseSnmp(t *testing.T) {
	snmp := "Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm ActiveOpens PassiveOpens CurrEstab\nTcp: 1 10 2000 42\n"
	for _, c := range []struct {
		group, name string
		want        int64
	}{
		{"Tcp:", "PassiveOpens", 2000},
		{"Tcp:", "CurrEstab", 42},
		{"Ip:", "DefaultTTL", 64},
		{"Tcp:", "NoSuch", 0},
		{"Udp:", "InDatagrams", 0},
	} {
		if got := parseSnmp(snmp, c.group, c.name); got != c.want {
			t.Errorf("parseSnmp(%q, %q) = %d; want %d", c.group, c.name, got, c.want)
		}
	}
}

func TestParseSoftnetDrops(t *testing.T) {
	// Column 2 is hex: 0x1f + 0x02 = 33.
	s := "0004b3b5 0000001f 00000000 00000000\n000a11c3 00000002 00000001 00000000\n"
	if got := parseSoftnetDrops(s); got != 33 {
		t.Errorf("parseSoftnetDrops = %d; want 33", got)
	}
}

func TestC1mResolve(t *testing.T) {
	o := C1mOptions{Conns: 1000000, Sources: 250, Active: 0.01, Rate: 1, Storm: 2 * time.Minute, Hold: time.Minute, MaxPending: 256}
	if err := o.resolve(); err != nil {
		t.Fatal(err)
	}
	if o.Procs != 58 || o.active() != 10000 || o.idle() != 990000 || o.Clients != 55 || o.activeClients() != 1 {
		t.Errorf("resolve(1,000,000) = procs %d, active %d, idle %d, clients %d+%d; want 58, 10000, 990000, 55+1",
			o.Procs, o.active(), o.idle(), o.Clients, o.activeClients())
	}
	bad := o
	bad.Active = 0
	if err := bad.resolve(); err == nil || !strings.Contains(err.Error(), "-c1m-") {
		t.Errorf("resolve(active 0) = %v; want an error naming the flags", err)
	}
}

func TestSaturation(t *testing.T) {
	if got := saturation(2, 1.2, 0.7, 0.1, 0.0, 0, 0); !strings.Contains(got, "CPU") || !strings.Contains(got, "most: server processes") {
		t.Errorf("saturation(busy) = %q; want CPU, server processes", got)
	}
	if got := saturation(2, 0.3, 0.2, 0.1, 1.4, 120, 5); strings.Contains(got, "CPU") || !strings.Contains(got, "120 ListenOverflows") || !strings.Contains(got, "5 softnet drops") {
		t.Errorf("saturation(queues) = %q; want accept queues and softnet drops, not CPU", got)
	}
	if got := saturation(2, 0.3, 0.2, 0.1, 1.4, 0, 0); !strings.Contains(got, "nothing measured") {
		t.Errorf("saturation(idle) = %q; want nothing measured", got)
	}
}
