package proxyproto

import "testing"

// TestFeedDoesNotAllocate pins the accepting path at zero allocations for
// what balancers send: version 2 (HAProxy's send-proxy-v2) with addresses
// and TLVs, and version 1 over IPv4. (Errors allocate their message;
// version 1 over IPv6 allocates the string netip parses.)
func TestFeedDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	for _, in := range [][]byte{
		v2(0x21, 0x11, cat(inet4Body, tlvs)...),
		v2(0x21, 0x21, inet6Body...),
		[]byte("PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n"),
	} {
		var p Parser
		allocs := testing.AllocsPerRun(100, func() {
			if _, done, _, err := p.Feed(in[:7]); done || err != nil {
				t.Fatal(err)
			}
			if _, done, _, err := p.Feed(in[7:]); !done || err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("Feed(%q) allocates %.1f times; want 0", in, allocs)
		}
	}
}
