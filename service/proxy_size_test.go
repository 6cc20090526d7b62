package service

import (
	"net/netip"
	"testing"
	"unsafe"
)

// TestProxiedProtocolSize: -proxy-protocol costs each connection one
// pointer and the client's packed address beyond the plain protocol, and
// the address survives the packing.
func TestProxiedProtocolSize(t *testing.T) {
	for _, s := range []string{"192.0.2.1:56324", "[2001:db8::7]:4000", "[::ffff:192.0.2.1]:1", "0.0.0.0:0", "[::]:65535"} {
		var tr proxiedTransport
		a := netip.MustParseAddrPort(s)
		tr.setClient(a)
		if got, ok := tr.client(); !ok || got != a {
			t.Errorf("setClient(%s): client() = %s, %v", s, got, ok)
		}
		if got := tr.RemoteAddr().String(); got != s && !a.Addr().Is4In6() { // net prints ::ffff:a.b.c.d as a.b.c.d
			t.Errorf("setClient(%s): RemoteAddr %s", s, got)
		}
	}
	extra := unsafe.Sizeof(proxiedProtocol{}) - unsafe.Sizeof(wsProtocol{})
	if extra > 32 {
		t.Fatalf("proxiedProtocol is %d bytes larger than wsProtocol; want at most 32", extra)
	}
}
