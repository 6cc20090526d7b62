package envflag

import (
	"bytes"
	"strings"
	"testing"
)

// TestCommandLineBool: a command-line-only flag works alone and with a
// value, is not read from the environment, shows no variable in -h and no
// "(default false)", and its would-be variable is a stray.
func TestCommandLineBool(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, false}, {[]string{"-version"}, true}, {[]string{"-version=false"}, false}, {[]string{"-version=1"}, true},
	} {
		s := newTestSet()
		var v bool
		CommandLineBool(s.fs, &v, "version", "print the version")
		if _, err := Parse(s.fs, "APP", tc.args, env(map[string]string{"APP_VERSION": "true"})); err != nil || v != tc.want {
			t.Errorf("Parse(%q) with APP_VERSION=true: %v, %v; want %v", tc.args, v, err, tc.want)
		}
	}
	s := newTestSet()
	var v bool
	CommandLineBool(s.fs, &v, "version", "print the version")
	if _, err := Parse(s.fs, "APP", []string{"-version=maybe"}, nil); err == nil || err.Error() != `-version "maybe": want true or false` {
		t.Errorf("-version=maybe: %v", err)
	}
	var out bytes.Buffer
	s.fs.SetOutput(&out)
	s.fs.PrintDefaults()
	help := out.String()
	if !strings.Contains(help, "  -version\n    \tprint the version\n") || strings.Contains(help, "APP_VERSION") || strings.Contains(help, "panic") {
		t.Errorf("-h for a command-line-only flag:\n%s", help)
	}
	if got := Strays(s.fs, "APP", []string{"APP_VERSION=1"}); len(got) != 1 || got[0].Name != "APP_VERSION" {
		t.Errorf("Strays = %v; want APP_VERSION", got)
	}
}
