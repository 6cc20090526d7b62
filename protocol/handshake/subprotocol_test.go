package handshake

import "testing"

func TestSubprotocolSelect(t *testing.T) {
	tests := []struct {
		offered, supported []string
		want               string
	}{
		{[]string{"chat", "superchat"}, hsSupported, "chat"},
		{[]string{"superchat", "chat"}, hsSupported, "superchat"}, // the client's order wins
		{[]string{"v2", "superchat"}, hsSupported, "superchat"},
		{[]string{"Chat"}, hsSupported, ""}, // compared exactly
		{[]string{"mqtt"}, hsSupported, ""},
		{nil, hsSupported, ""},
		{[]string{"chat"}, nil, ""},
		{[]string{""}, []string{""}, ""}, // the empty string is never a subprotocol (§4.2.2)
	}
	for _, tt := range tests {
		if got := SelectSubprotocol(tt.offered, tt.supported); got != tt.want {
			t.Errorf("SelectSubprotocol(%q, %q) = %q; want %q", tt.offered, tt.supported, got, tt.want)
		}
	}
}

func TestOriginAllowed(t *testing.T) {
	allow := []string{"https://app.example.com", "http://localhost:8080", "null"}
	tests := []struct {
		origin string
		allow  []string
		want   bool
	}{
		{"https://evil.example", nil, true}, // an empty list allows all
		{"https://app.example.com", allow, true},
		{"HTTPS://App.Example.COM", allow, true},
		{"http://localhost:8080", allow, true},
		{"null", allow, true},
		{"", allow, true}, // no Origin: not a browser (§4.2.1 item 7)
		{"https://app.example.com/", allow, false},
		{"https://app.example.com:443", allow, false},
		{"http://app.example.com", allow, false},
		{"https://evil.example", allow, false},
		{"http://localhost:8081", allow, false},
		{"http://\u212Aocalhost:8080", []string{"http://kocalhost:8080"}, false}, // no Unicode folding
	}
	for _, tt := range tests {
		if got := OriginAllowed(tt.origin, tt.allow); got != tt.want {
			t.Errorf("OriginAllowed(%q, %q) = %v; want %v", tt.origin, tt.allow, got, tt.want)
		}
	}
}
