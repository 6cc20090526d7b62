package envflag

import (
	"reflect"
	"testing"
)

func TestStrays(t *testing.T) {
	s := newTestSet()
	environ := []string{
		"APP_ADDR=x",            // a flag's
		"APP_MAXMESSAGE=5",      // misspelled: underscores
		"APP_PING_INTERVL=1s",   // misspelled: a letter
		"APP_WORKER=0",          // the program's own
		"APP_SOMETHING_ELSE=1",  // nobody's
		"APP_MAXMESSAGE=6",      // repeated
		"OTHER_MAXMESSAGE=1",    // another prefix
		"APP=1",                 // the prefix alone
		"app_addr=1",            // case matters in names
		"PATH=/bin",             //
		"APP_PROXY_PROTOCOL_=1", // a trailing underscore
	}
	got := Strays(s.fs, "APP", environ, "APP_WORKER")
	want := []Stray{
		{"APP_MAXMESSAGE", "APP_MAX_MESSAGE"},
		{"APP_PING_INTERVL", "APP_PING_INTERVAL"},
		{"APP_PROXY_PROTOCOL_", "APP_PROXY_PROTOCOL"},
		{"APP_SOMETHING_ELSE", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Strays = %v; want %v", got, want)
	}
}

func TestNearest(t *testing.T) {
	cands := []string{"addr", "loops", "max-message", "max-conns", "admin-addr"}
	for _, tc := range []struct{ in, want string }{
		{"adr", "addr"},
		{"Loops", "loops"},
		{"maxmessage", "max-message"},
		{"max_conns", "max-conns"},
		{"max-con", "max-conns"},
		{"adminaddr", "admin-addr"},
		{"verbose", ""},
		{"", ""},
	} {
		if got := nearest(tc.in, cands); got != tc.want {
			t.Errorf("nearest(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"abc", "abc", 0}, {"kitten", "sitting", 3}, {"ab", "ba", 2}, {"abcdef", "a", 3},
	} {
		if got := distance(tc.a, tc.b, 3); got != tc.want {
			t.Errorf("distance(%q, %q, 3) = %d; want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
