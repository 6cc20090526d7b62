package protocol

import "testing"

func TestConnTransport(t *testing.T) {
	h := newHarness(t, testConfig(), nil)
	if got := h.c.Transport(); got != Transport(h.tr) {
		t.Fatalf("Transport() = %v; want the one given to ConnectionMade", got)
	}
	if got := testServer().NewConn().Transport(); got != nil {
		t.Fatalf("Transport() before ConnectionMade = %v; want nil", got)
	}
}

func testServer() *Server { return NewServer(testConfig(), nil) }
