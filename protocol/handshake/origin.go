package handshake

// OriginAllowed reports whether a handshake's Origin header value (Request.Origin)
// passes the allow-list allow (RFC 6455 §4.2.2 /origin/ and §10.2). An empty
// allow-list allows every origin. Otherwise the origin must equal one of the
// entries, ignoring ASCII case (§4.2.2: "The origin is serialized to ASCII and
// converted to lowercase"), e.g. "https://app.example.com" or "null".
//
// A request without Origin ("") is allowed: only browsers must send it
// (§4.1 item 8), §4.2.1 item 7 says "A connection attempt lacking this header
// field SHOULD NOT be interpreted as coming from a browser client", and a
// non-browser client could send any Origin it likes anyway. The origin check
// protects browser users from other sites' scripts, not the server from
// arbitrary clients.
//
// A rejected origin is answered with ErrOriginForbidden. Safe from any
// goroutine; allocates nothing.
func OriginAllowed(origin string, allow []string) bool {
	if len(allow) == 0 || origin == "" {
		return true
	}
	for _, a := range allow {
		if asciiEqualFold(origin, a) {
			return true
		}
	}
	return false
}

// asciiEqualFold reports whether a and b are equal ignoring ASCII case only
// (strings.EqualFold would also fold non-ASCII letters such as the Kelvin
// sign into "k", which an ASCII serialized origin must not match).
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
