package envflag

import (
	"bytes"
	"flag"
	"strings"
	"testing"
	"time"
)

func TestName(t *testing.T) {
	for _, tc := range []struct{ flag, want string }{
		{"addr", "APP_ADDR"},
		{"max-message", "APP_MAX_MESSAGE"},
		{"log.level", "APP_LOG_LEVEL"},
		{"x", "APP_X"},
	} {
		if got := Name("APP", tc.flag); got != tc.want {
			t.Errorf("Name(%q, %q) = %q; want %q", "APP", tc.flag, got, tc.want)
		}
	}
}

// testSet is a flag set with one flag of each common kind.
type testSet struct {
	fs   *flag.FlagSet
	addr string
	max  int64
	dur  time.Duration
	on   bool
}

func newTestSet() *testSet {
	s := &testSet{fs: flag.NewFlagSet("t", flag.ContinueOnError)}
	s.fs.SetOutput(new(bytes.Buffer))
	s.fs.StringVar(&s.addr, "addr", ":8080", "address")
	s.fs.Int64Var(&s.max, "max-message", 100, "limit")
	s.fs.DurationVar(&s.dur, "ping-interval", time.Second, "interval")
	s.fs.BoolVar(&s.on, "proxy-protocol", false, "on")
	return s
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParsePrecedence(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		addr string
		max  int64
		dur  time.Duration
		on   bool
	}{
		{"defaults", nil, nil, ":8080", 100, time.Second, false},
		{"env only", nil, map[string]string{"APP_ADDR": "127.0.0.1:1", "APP_MAX_MESSAGE": "7", "APP_PING_INTERVAL": "3s", "APP_PROXY_PROTOCOL": "true"},
			"127.0.0.1:1", 7, 3 * time.Second, true},
		{"command line wins", []string{"-addr", "127.0.0.1:2", "-max-message", "9"}, map[string]string{"APP_ADDR": "127.0.0.1:1", "APP_MAX_MESSAGE": "7"},
			"127.0.0.1:2", 9, time.Second, false},
		{"command line default value still wins", []string{"-max-message", "100"}, map[string]string{"APP_MAX_MESSAGE": "7"},
			":8080", 100, time.Second, false},
		{"empty variable is a value", nil, map[string]string{"APP_ADDR": ""}, "", 100, time.Second, false},
		{"other prefixes ignored", nil, map[string]string{"OTHER_ADDR": "x", "ADDR": "y", "app_addr": "z"}, ":8080", 100, time.Second, false},
		{"bool false from env", []string{}, map[string]string{"APP_PROXY_PROTOCOL": "false"}, ":8080", 100, time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSet()
			if _, err := Parse(s.fs, "APP", tc.args, env(tc.env)); err != nil {
				t.Fatalf("Parse(%q) with %v: %v", tc.args, tc.env, err)
			}
			if s.addr != tc.addr || s.max != tc.max || s.dur != tc.dur || s.on != tc.on {
				t.Errorf("Parse(%q) with %v = addr %q max %d dur %v on %v; want %q %d %v %v",
					tc.args, tc.env, s.addr, s.max, s.dur, s.on, tc.addr, tc.max, tc.dur, tc.on)
			}
		})
	}
}

func TestParseBadEnvironmentValue(t *testing.T) {
	for _, tc := range []struct{ key, val string }{
		{"APP_MAX_MESSAGE", "lots"},
		{"APP_PING_INTERVAL", "5"},
		{"APP_PROXY_PROTOCOL", "maybe"},
	} {
		s := newTestSet()
		_, err := Parse(s.fs, "APP", nil, env(map[string]string{tc.key: tc.val}))
		if err == nil {
			t.Errorf("Parse with %s=%q: no error", tc.key, tc.val)
			continue
		}
		for _, want := range []string{tc.key + `="` + tc.val + `"`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Parse with %s=%q: error %q does not contain %q", tc.key, tc.val, err, want)
			}
		}
	}
	// A bad value in the environment is harmless when the command line sets the flag.
	s := newTestSet()
	if _, err := Parse(s.fs, "APP", []string{"-max-message", "5"}, env(map[string]string{"APP_MAX_MESSAGE": "lots"})); err != nil || s.max != 5 {
		t.Errorf("Parse(-max-message 5) with APP_MAX_MESSAGE=lots = %d, %v; want 5, nil", s.max, err)
	}
}

func TestAnnotateListsVariablesInHelp(t *testing.T) {
	s := newTestSet()
	var out bytes.Buffer
	s.fs.SetOutput(&out)
	if _, err := Parse(s.fs, "APP", []string{"-h"}, env(nil)); err != flag.ErrHelp {
		t.Fatalf("Parse(-h) = %v; want flag.ErrHelp", err)
	}
	for _, want := range []string{"(env APP_ADDR)", "(env APP_MAX_MESSAGE)", "(env APP_PING_INTERVAL)", "(env APP_PROXY_PROTOCOL)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-h output lacks %q:\n%s", want, out.String())
		}
	}
}
