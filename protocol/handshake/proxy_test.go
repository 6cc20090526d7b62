package handshake

import (
	"reflect"
	"testing"
)

// TestHandshakeProxyHeader: a PROXY protocol header where the request line
// should be is a 400 whose reason names it, at every split, whether the
// rest of the request follows or not.
func TestHandshakeProxyHeader(t *testing.T) {
	const v2 = "\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\xc0\x00\x02\x01\xc6\x33\x64\x07\xdc\x04\x01\xbb"
	for _, c := range []hsCase{
		{name: "v1 tcp4", in: "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n", status: 400, msg: `PROXY protocol version 1 header "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443"`},
		{name: "v1 tcp4 then request", in: "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n" + hsStd(""), status: 400, msg: "not configured to read one"},
		{name: "v1 unknown", in: "PROXY UNKNOWN\r\n", status: 400, msg: `"PROXY UNKNOWN"`},
		{name: "v1 bare LF", in: "PROXY TCP6 ::1 ::1 1 2\n", status: 400, msg: "PROXY protocol version 1"},
		{name: "v2", in: v2, status: 400, msg: "PROXY protocol version 2"},
		{name: "v2 then request", in: v2 + hsStd(""), status: 400, msg: "PROXY protocol version 2"},
		{name: "v2 signature only", in: v2[:12], status: 400, msg: "PROXY protocol version 2"},
		{name: "method PROXY without space", in: "PROXYX / HTTP/1.1\r\n\r\n", status: 405, header: [][2]string{{"Allow", "GET"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in)
			whole := hsFeed(in, len(in))
			hsCheck(t, c, whole)
			for size := 1; size < len(in); size++ {
				if got := hsFeed(in, size); !reflect.DeepEqual(got, whole) {
					t.Fatalf("split every %d bytes:\n got %+v\nwant %+v (whole)", size, got, whole)
				}
			}
		})
	}
}
