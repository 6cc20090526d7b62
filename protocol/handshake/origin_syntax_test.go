package handshake

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckOrigin(t *testing.T) {
	for _, s := range []string{
		"https://example.com", "http://127.0.0.1:8080", "HTTPS://App.Example.COM", "null", "NULL",
		"http://[::1]:9001", "https://[2001:db8::1]", "chrome-extension://abcdef", "https://xn--bcher-kva.example",
		"http://localhost:1", "https://a.b:65535", "https://example.com:80",
	} {
		if err := CheckOrigin(s); err != nil {
			t.Errorf("CheckOrigin(%q) = %v; want nil", s, err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"foo", "want scheme://host or scheme://host:port"},
		{"example.com", "want scheme://host"},
		{"", "want scheme://host"},
		{"*", "want scheme://host"},
		{"://example.com", "want scheme://host"},
		{"1http://example.com", "want scheme://host"},
		{"https://example.com/", `it has a path (an origin is scheme://host[:port] alone: https://example.com)`},
		{"https://example.com/app", "it has a path"},
		{"https://example.com?x", "it has a query"},
		{"https://example.com#x", "it has a fragment"},
		{"https://user@example.com", "user information"},
		{"https://", "no host"},
		{"https://:8080", "no host"},
		{"https://[]:1", "no host"},
		{"https://[::1", "closing ']'"},
		{"https://[::1]x", "want ':' and a port"},
		{"https://example.com:", `the port "" is not`},
		{"https://example.com:0", `the port "0" is not`},
		{"https://example.com:65536", `the port "65536"`},
		{"https://example.com:08080", `the port "08080"`},
		{"https://example.com:+80", `the port "+80"`},
		{"https://example.com:https", `the port "https"`},
		{"https://example.com:443", "a browser leaves out the default port 443: write https://example.com"},
		{"http://example.com:80", "default port 80"},
		{"wss://example.com:443", "default port 443"},
		{"https://bücher.example", "punycode"},
		{"https://example.com ", "a space"},
		{" https://example.com", "a space"},
	} {
		err := CheckOrigin(tc.in)
		var oe *OriginError
		if !errors.As(err, &oe) || oe.Origin != tc.in || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckOrigin(%q) = %v; want an *OriginError containing %q", tc.in, err, tc.want)
		}
	}
}

// TestCheckOriginMatchesAllowed: every origin CheckOrigin takes is
// allowed by a list holding it, whatever its case.
func TestCheckOriginMatchesAllowed(t *testing.T) {
	for _, s := range []string{"https://example.com", "null", "http://[::1]:9001"} {
		if CheckOrigin(s) != nil || !OriginAllowed(strings.ToLower(s), []string{strings.ToUpper(s)}) {
			t.Errorf("%q: checked but not allowed", s)
		}
	}
}
