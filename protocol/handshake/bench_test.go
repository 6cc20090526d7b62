package handshake

import "testing"

// BenchmarkHandshake measures one opening handshake: parse the seed request
// (the whole head in one Feed, as it usually arrives) and write the 101
// response. Split feeds the same head in two pieces (the buffered path).
func BenchmarkHandshake(b *testing.B) {
	in := []byte(hsSeedRequest)
	for _, bc := range []struct {
		name  string
		split int
	}{{"whole", 0}, {"split", len(in) / 2}} {
		b.Run(bc.name, func(b *testing.B) {
			out := make([]byte, 0, 256)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				var hp Parser
				if bc.split > 0 {
					if _, _, _, err := hp.Feed(in[:bc.split]); err != nil {
						b.Fatal(err)
					}
				}
				_, done, req, err := hp.Feed(in[bc.split:])
				if !done || err != nil {
					b.Fatalf("Feed: done %v, err %v", done, err)
				}
				out = AppendResponse(out[:0], req.Key, SelectSubprotocol(req.Protocols, hsSupported))
			}
		})
	}
}

// BenchmarkHandshakeReject measures a rejected request: parse, then write the
// error response.
func BenchmarkHandshakeReject(b *testing.B) {
	in := []byte(hsHead("GET / HTTP/1.1", "Host: example.com", "Accept: */*"))
	out := make([]byte, 0, 512)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var hp Parser
		_, _, _, err := hp.Feed(in)
		out = AppendHTTPError(out[:0], err.(*Error))
	}
}
