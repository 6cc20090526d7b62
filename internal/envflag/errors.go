package envflag

import (
	"flag"
	"strconv"
	"time"
)

// Error is a value a flag refused, from the command line or from the
// environment. Its message is meant for the command's user as it is, after
// the command's name: it names the flag or the variable, quotes the value
// and says what is wanted.
type Error struct {
	Flag   string // the flag's name, without the dash
	Var    string // the environment variable the value came from; "" for the command line
	Value  string // the value as given
	Reason string // what is wanted, or why the value is refused
}

func (e *Error) Error() string {
	if e.Var != "" {
		return e.Var + "=" + strconv.Quote(e.Value) + " (for -" + e.Flag + "): " + e.Reason
	}
	return "-" + e.Flag + " " + strconv.Quote(e.Value) + ": " + e.Reason
}

// The flag package's own values refuse a value with one of these two
// messages, which say nothing of what is wanted.
const (
	flagParseError = "parse error"
	flagRangeError = "value out of range"
)

// reason says why v refused a value with err: for the flag package's own
// kinds of value, what kind of value is wanted; for other values, their
// own error (which should say it).
func reason(v flag.Value, err error) string {
	msg := err.Error()
	if msg != flagParseError && msg != flagRangeError {
		if e, ok := err.(*Error); ok { // a recorder's own error
			return e.Reason
		}
		return msg
	}
	var got any
	if g, ok := v.(flag.Getter); ok {
		got = g.Get()
	}
	want := ""
	switch got.(type) {
	case time.Duration:
		return "want a duration with a unit, like 30s, 1m30s or 500ms (units: ns, us, ms, s, m, h)"
	case bool:
		return "want true or false"
	case int, int64:
		want = "want a whole number"
	case uint, uint64:
		want = "want a whole number from 0"
	case float64:
		want = "want a number"
	default:
		return msg
	}
	if msg == flagRangeError {
		return "out of range: " + want + " of at most 64 bits"
	}
	return want
}
