package handshake

import (
	"strconv"
	"strings"
)

// OriginError says why a value is not an origin as a browser sends it
// (CheckOrigin).
type OriginError struct {
	Origin string
	Reason string
}

func (e *OriginError) Error() string {
	return "handshake: " + strconv.Quote(e.Origin) + " is not an origin: " + e.Reason
}

// defaultPorts are the ports a browser leaves out of an origin (RFC 6454
// §6.2: the port is written only when it is not the scheme's default).
var defaultPorts = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443"}

// CheckOrigin reports whether s can be an entry of an Origin allow-list
// (OriginAllowed): an origin as a browser serializes it, RFC 6454 §6.2,
// scheme "://" host [ ":" port ], such as "https://app.example.com" or
// "http://127.0.0.1:8080", or "null", which browsers send for an opaque
// origin (a file:// page, a sandboxed frame; RFC 6454 §7.3). Allowing
// "null" allows every such page, whoever wrote it.
//
// It refuses, with an *OriginError saying why, what a browser never sends,
// so an entry that could never match is found at start, not by a user: no
// "://" ("example.com"), a path, query or fragment (even a lone trailing
// "/"), user information, an empty host, a port that is not 1 to 65535 or
// is the scheme's default (browsers leave out 443 for https), and
// characters outside printable ASCII (a browser sends an international
// host name in its ASCII, punycode form). Case is free: the comparison
// ignores it. Safe from any goroutine.
func CheckOrigin(s string) error {
	if asciiEqualFold(s, "null") {
		return nil
	}
	bad := func(reason string) error { return &OriginError{Origin: s, Reason: reason} }
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return bad("it has a space, a control character or a non-ASCII character (a browser sends a host name in its ASCII, punycode form)")
		}
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !validScheme(scheme) {
		return bad("want scheme://host or scheme://host:port, as a browser sends it (https://example.com), or null")
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		what := map[byte]string{'/': "a path", '?': "a query", '#': "a fragment"}[rest[i]]
		return bad("it has " + what + " (an origin is scheme://host[:port] alone: " + scheme + "://" + rest[:i] + ")")
	}
	if strings.Contains(rest, "@") {
		return bad("it has user information (an origin is scheme://host[:port] alone)")
	}
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") { // an IPv6 literal
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return bad("an IPv6 address without its closing ']'")
		}
		host, port = rest[:end+1], rest[end+1:]
		if port != "" && port[0] != ':' {
			return bad("want ':' and a port after the IPv6 address")
		}
		port = strings.TrimPrefix(port, ":")
	} else if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		host, port = rest[:i], rest[i+1:]
	}
	if host == "" || host == "[]" {
		return bad("no host")
	}
	if rest != host {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' || port[0] == '+' {
			return bad("the port " + strconv.Quote(port) + " is not a number from 1 to 65535")
		}
		if defaultPorts[strings.ToLower(scheme)] == port {
			return bad("a browser leaves out the default port " + port + ": write " + scheme + "://" + host)
		}
	}
	return nil
}

// validScheme reports whether s is a URI scheme (RFC 3986 §3.1): a letter,
// then letters, digits, '+', '-' and '.'.
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}
