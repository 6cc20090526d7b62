package service

import (
	"bytes"
	"net/netip"
	"testing"
)

// TestRecordHeadRoundTrip: the part of a moved connection's record that
// the service adds (the PROXY-derived client address, the queued output)
// reads back as written, and cut records are refused.
func TestRecordHeadRoundTrip(t *testing.T) {
	for _, h := range []recordHead{
		{},
		{proxied: true},
		{proxied: true, hasClient: true, client: netip.MustParseAddrPort("192.0.2.7:40000")},
		{proxied: true, hasClient: true, client: netip.MustParseAddrPort("[2001:db8::1]:443")},
	} {
		for _, pending := range [][]byte{nil, []byte("queued output")} {
			rec := h.append(nil, pending)
			rec = append(rec, "state"...)
			got, gotPending, state, err := parseRecord(rec)
			if err != nil || got != h || !bytes.Equal(gotPending, pending) || string(state) != "state" {
				t.Errorf("parseRecord(append(%+v, %q)) = %+v, %q, %q, %v", h, pending, got, gotPending, state, err)
			}
			for i := 0; i < len(rec)-len("state"); i++ {
				if _, _, _, err := parseRecord(rec[:i]); err == nil {
					t.Errorf("parseRecord of %d of %d bytes = nil error", i, len(rec))
				}
			}
		}
	}
	if _, _, _, err := parseRecord([]byte{0x80, 0, 0, 0, 0}); err == nil {
		t.Error("parseRecord with unknown flags = nil error")
	}
}
