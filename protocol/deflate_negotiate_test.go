package protocol

import (
	"strings"
	"testing"
)

// dfAnswer is the answer line negotiateDeflate gives for header, "" when
// it declines.
func dfAnswer(header string, cfg DeflateConfig) string {
	a, ok := negotiateDeflate(header, &cfg)
	if !ok {
		return ""
	}
	line := string(appendDeflateAnswer(nil, a))
	return strings.TrimSuffix(strings.TrimPrefix(line, "Sec-WebSocket-Extensions: "), "\r\n")
}

const (
	pmd  = "permessage-deflate"
	noCx = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
)

// dfCases are offers (RFC 7692 §5, §7.1; RFC 6455 §9.1 grammar) and the
// answer the default policy (no context takeover) gives.
var dfCases = []struct{ name, header, want string }{
	{"plain", "permessage-deflate", noCx},
	{"case-insensitive name", "PerMessage-Deflate", noCx},
	{"absent", "", ""},
	{"other extension only", "x-webkit-deflate-frame", ""},
	{"other then ours", "foo; bar=1, permessage-deflate", noCx},
	{"browser offer", "permessage-deflate; client_max_window_bits", noCx},
	{"client bits value", "permessage-deflate; client_max_window_bits=10", noCx},
	{"quoted client bits", `permessage-deflate; client_max_window_bits="10"`, noCx},
	{"server bits", "permessage-deflate; server_max_window_bits=9", noCx + "; server_max_window_bits=9"},
	{"server bits 8", "permessage-deflate; server_max_window_bits=8", noCx + "; server_max_window_bits=8"},
	{"server bits 15", "permessage-deflate; server_max_window_bits=15", noCx + "; server_max_window_bits=15"},
	{"all four", "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11", noCx + "; server_max_window_bits=12"},
	{"spaces", "  permessage-deflate ;  client_max_window_bits = 12 , ", noCx},
	{"tabs", "permessage-deflate\t;\tserver_no_context_takeover", noCx},
	{"empty elements", ", ,permessage-deflate,,", noCx},
	{"first acceptable wins", "permessage-deflate; server_max_window_bits=10, permessage-deflate", noCx + "; server_max_window_bits=10"},
	{"skip bad offer", "permessage-deflate; server_max_window_bits=7, permessage-deflate; client_max_window_bits", noCx},
	{"skip unknown param", "permessage-deflate; foo, permessage-deflate", noCx},
	// Declined (§7.1: unknown, repeated or invalid parameters).
	{"unknown param", "permessage-deflate; foo", ""},
	{"unknown param with value", "permessage-deflate; foo=1", ""},
	{"repeated param", "permessage-deflate; client_no_context_takeover; client_no_context_takeover", ""},
	{"repeated bits", "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10", ""},
	{"five params", "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11; x", ""},
	{"server bits no value", "permessage-deflate; server_max_window_bits", ""},
	{"server bits 7", "permessage-deflate; server_max_window_bits=7", ""},
	{"server bits 16", "permessage-deflate; server_max_window_bits=16", ""},
	{"server bits leading zero", "permessage-deflate; server_max_window_bits=09", ""},
	{"server bits sign", "permessage-deflate; server_max_window_bits=+9", ""},
	{"client bits 7", "permessage-deflate; client_max_window_bits=7", ""},
	{"client bits empty quoted", `permessage-deflate; client_max_window_bits=""`, ""},
	{"client bits escaped", `permessage-deflate; client_max_window_bits="1\0"`, ""},
	{"no-context with value", "permessage-deflate; server_no_context_takeover=1", ""},
	{"client no-context with value", `permessage-deflate; client_no_context_takeover="x"`, ""},
	// Broken grammar ends the search.
	{"unterminated quote", `permessage-deflate; client_max_window_bits="10`, ""},
	{"quote in list", `foo; a="x, permessage-deflate", permessage-deflate`, noCx},
	{"broken then ours", "foo bar, permessage-deflate", ""},
	{"empty param", "permessage-deflate;", ""},
	{"empty value", "permessage-deflate; client_max_window_bits=", ""},
	{"semicolon first", "; permessage-deflate", ""},
}

// TestDeflateNegotiate checks each offer's answer, with context takeover
// off (the default) and on, and with the extension disabled.
func TestDeflateNegotiate(t *testing.T) {
	on := DeflateConfig{Enabled: true}
	for _, c := range dfCases {
		if got := dfAnswer(c.header, on); got != c.want {
			t.Errorf("%s: negotiateDeflate(%q) answers %q; want %q", c.name, c.header, got, c.want)
		}
		if got := dfAnswer(c.header, DeflateConfig{}); got != "" {
			t.Errorf("%s: disabled, negotiateDeflate(%q) answers %q; want none", c.name, c.header, got)
		}
	}
	take := DeflateConfig{Enabled: true, ContextTakeover: true}
	for _, c := range []struct{ header, want string }{
		{"permessage-deflate", pmd},
		{"permessage-deflate; client_max_window_bits", pmd},
		{"permessage-deflate; server_no_context_takeover", pmd + "; server_no_context_takeover"},
		{"permessage-deflate; client_no_context_takeover", pmd + "; client_no_context_takeover"},
		{"permessage-deflate; server_max_window_bits=10; client_no_context_takeover", pmd + "; client_no_context_takeover; server_max_window_bits=10"},
	} {
		if got := dfAnswer(c.header, take); got != c.want {
			t.Errorf("takeover: negotiateDeflate(%q) answers %q; want %q", c.header, got, c.want)
		}
	}
}

// TestDeflateHandshakeSplit runs the negotiation through a connection,
// the request (with the offer over several header lines) fed split at
// every chunk size: the 101 carries the same answer every time.
func TestDeflateHandshakeSplit(t *testing.T) {
	cfg := testConfig()
	cfg.Deflate.Enabled = true
	for _, c := range []struct {
		lines []string
		want  string
	}{
		{[]string{"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"}, noCx},
		{[]string{"Sec-WebSocket-Extensions: x-foo", "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10"}, noCx + "; server_max_window_bits=10"},
		{[]string{"Sec-WebSocket-Extensions: permessage-deflate; bogus", "sec-websocket-extensions: permessage-deflate; server_no_context_takeover"}, noCx},
		{[]string{"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=4"}, ""},
		{nil, ""},
	} {
		req := hsStd(c.lines...)
		want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
		if c.want != "" {
			want += "Sec-WebSocket-Extensions: " + c.want + "\r\n"
		}
		want += "\r\n"
		for size := 1; size <= len(req); size++ {
			h := newHarness(t, cfg, nil)
			h.feedChunks([]byte(req), size)
			if got := string(h.tr.out); got != want {
				t.Fatalf("%q split every %d bytes:\n got %q\nwant %q", c.lines, size, got, want)
			}
		}
	}
}

// FuzzDeflateOffer feeds arbitrary Sec-WebSocket-Extensions values to the
// negotiation: it must never panic, and an offer it accepts, written back
// as the answer, must itself be an acceptable offer with the same result
// (the answer holds only parameters an offer may hold).
func FuzzDeflateOffer(f *testing.F) {
	for _, c := range dfCases {
		f.Add(c.header, false)
	}
	f.Fuzz(func(t *testing.T, header string, takeover bool) {
		cfg := DeflateConfig{Enabled: true, ContextTakeover: takeover}
		a, ok := negotiateDeflate(header, &cfg)
		if !ok {
			if a != (deflateAnswer{}) {
				t.Fatalf("negotiateDeflate(%q) declined with %+v", header, a)
			}
			return
		}
		if b := a.p.serverBits(); b < 8 || b > 15 {
			t.Fatalf("negotiateDeflate(%q): window bits %d", header, b)
		}
		answer := dfAnswer(header, cfg)
		again, ok := negotiateDeflate(answer, &cfg)
		if !ok || again != a {
			t.Fatalf("negotiateDeflate(%q) = %+v, answer %q; that answer as an offer gives %+v, %v", header, a, answer, again, ok)
		}
	})
}
