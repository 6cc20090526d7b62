package proxyproto

import "testing"

// BenchmarkFeed parses whole headers as balancers send them, in one Feed.
//
//	go test -run '^$' -bench Feed -benchmem ./protocol/proxyproto
func BenchmarkFeed(b *testing.B) {
	for _, c := range []struct {
		name string
		in   []byte
	}{
		{"v2 tcp4", v2(0x21, 0x11, inet4Body...)},
		{"v2 tcp6 tlvs", v2(0x21, 0x21, cat(inet6Body, tlvs)...)},
		{"v1 tcp4", []byte("PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n")},
		{"v1 tcp6", []byte("PROXY TCP6 2001:db8::1 2001:db8::2 56324 443\r\n")},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.in)))
			var p Parser
			for b.Loop() {
				if _, done, _, err := p.Feed(c.in); !done || err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
