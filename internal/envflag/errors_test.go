package envflag

import (
	"bytes"
	"errors"
	"flag"
	"testing"
	"time"
)

// TestParseErrorsSayWhatIsWanted: a refused value, from the command line or
// the environment, is one *Error naming its source, quoting the value and
// saying what kind of value is wanted; nothing is written (no usage).
func TestParseErrorsSayWhatIsWanted(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string // the whole message
	}{
		{"duration without a unit, environment", nil, map[string]string{"APP_PING_INTERVAL": "30"},
			`APP_PING_INTERVAL="30" (for -ping-interval): want a duration with a unit, like 30s, 1m30s or 500ms (units: ns, us, ms, s, m, h)`},
		{"duration without a unit, command line", []string{"-ping-interval", "30"}, nil,
			`-ping-interval "30": want a duration with a unit, like 30s, 1m30s or 500ms (units: ns, us, ms, s, m, h)`},
		{"duration in one argument", []string{"-ping-interval=5x"}, nil,
			`-ping-interval "5x": want a duration with a unit, like 30s, 1m30s or 500ms (units: ns, us, ms, s, m, h)`},
		{"integer", []string{"-max-message", "lots"}, nil, `-max-message "lots": want a whole number`},
		{"integer out of range", []string{"-max-message", "99999999999999999999"}, nil,
			`-max-message "99999999999999999999": out of range: want a whole number of at most 64 bits`},
		{"integer, environment", nil, map[string]string{"APP_MAX_MESSAGE": "lots"}, `APP_MAX_MESSAGE="lots" (for -max-message): want a whole number`},
		{"bool", []string{"-proxy-protocol=maybe"}, nil, `-proxy-protocol "maybe": want true or false`},
		{"bool, environment", nil, map[string]string{"APP_PROXY_PROTOCOL": "yes"}, `APP_PROXY_PROTOCOL="yes" (for -proxy-protocol): want true or false`},
		{"a value's own error", []string{"-level", "loud"}, nil, `-level "loud": want quiet or normal`},
		{"a value's own error, environment", nil, map[string]string{"APP_LEVEL": "loud"}, `APP_LEVEL="loud" (for -level): want quiet or normal`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSet()
			s.fs.Var(new(level), "level", "quiet or normal")
			var out bytes.Buffer
			s.fs.SetOutput(&out)
			_, err := Parse(s.fs, "APP", tc.args, env(tc.env))
			var e *Error
			if !errors.As(err, &e) || err.Error() != tc.want {
				t.Errorf("Parse(%q) with %v = %v; want *Error %q", tc.args, tc.env, err, tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("Parse wrote %q; want nothing (the caller prints the one error)", out.String())
			}
		})
	}
}

// level is a flag.Value of its own, whose error says what it wants.
type level string

func (l *level) String() string { return string(*l) }
func (l *level) Set(s string) error {
	if s != "quiet" && s != "normal" {
		return errors.New("want quiet or normal")
	}
	*l = level(s)
	return nil
}

func TestParseOtherErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-maxmessage", "5"}, "-maxmessage: no such flag; did you mean -max-message?"},
		{[]string{"-adr", "x"}, "-adr: no such flag; did you mean -addr?"},
		{[]string{"-verbose"}, "-verbose: no such flag"},
		{[]string{"-addr"}, "flag needs an argument: -addr"},
	} {
		s := newTestSet()
		var out bytes.Buffer
		s.fs.SetOutput(&out)
		_, err := Parse(s.fs, "APP", tc.args, env(nil))
		if err == nil || err.Error() != tc.want {
			t.Errorf("Parse(%q) = %v; want %q", tc.args, err, tc.want)
		}
		if out.Len() != 0 {
			t.Errorf("Parse(%q) wrote %q; want nothing", tc.args, out.String())
		}
	}
	// The flags work after a failed parse as before: the wrapping is undone.
	s := newTestSet()
	_, _ = Parse(s.fs, "APP", []string{"-nope"}, nil)
	if _, ok := s.fs.Lookup("ping-interval").Value.(flag.Getter).Get().(time.Duration); !ok {
		t.Errorf("ping-interval's value is not a duration after Parse: %T", s.fs.Lookup("ping-interval").Value)
	}
	// Only ContinueOnError sets: the others exit inside fs.Parse.
	if _, err := Parse(flag.NewFlagSet("x", flag.ExitOnError), "APP", nil, nil); err == nil {
		t.Errorf("Parse of an ExitOnError set: no error")
	}
}

// TestBoolFlagStandsAlone: the wrapping keeps "-proxy-protocol" (no value)
// working.
func TestBoolFlagStandsAlone(t *testing.T) {
	s := newTestSet()
	if _, err := Parse(s.fs, "APP", []string{"-proxy-protocol", "-addr", "x"}, env(nil)); err != nil || !s.on || s.addr != "x" {
		t.Errorf("Parse(-proxy-protocol -addr x) = on %v addr %q, %v; want true, x, nil", s.on, s.addr, err)
	}
}

func TestDescribe(t *testing.T) {
	s := newTestSet()
	src, err := Parse(s.fs, "APP", []string{"-addr", "h:1", "-max-message", "0"},
		env(map[string]string{"APP_PING_INTERVAL": "0s", "APP_ADDR": "ignored", "APP_PROXY_PROTOCOL": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ flag, want, env string }{
		{"addr", `-addr "h:1"`, ""},
		{"max-message", "-max-message 0", ""},
		{"ping-interval", "APP_PING_INTERVAL=0s", "APP_PING_INTERVAL"},
		{"proxy-protocol", "APP_PROXY_PROTOCOL=true", "APP_PROXY_PROTOCOL"},
		{"nosuch", "-nosuch", ""},
	} {
		if got := src.Describe(tc.flag); got != tc.want {
			t.Errorf("Describe(%q) = %q; want %q", tc.flag, got, tc.want)
		}
		if got := src.FromEnv(tc.flag); got != tc.env {
			t.Errorf("FromEnv(%q) = %q; want %q", tc.flag, got, tc.env)
		}
	}
	var none *Sources
	if got := none.Describe("addr"); got != "-addr" {
		t.Errorf("nil Sources: Describe = %q; want -addr", got)
	}
}
