package envflag

import (
	"flag"
	"strconv"
)

// Sources tells, after Parse or Apply, which flags took their value from
// the environment, so that the command's own checks of a value can name
// the setting the user wrote.
type Sources struct {
	fs  *flag.FlagSet
	env map[string]string // flag name -> the variable that set it
}

// FromEnv reports the variable that set the flag called name, or "" when
// the value came from the command line or is the default.
func (s *Sources) FromEnv(name string) string {
	if s == nil {
		return ""
	}
	return s.env[name]
}

// Describe names the setting of the flag called name as the user wrote
// it, for an error message: "WSREACTOR_LOOPS=0" when the environment set
// it, "-loops 0" otherwise; string values are quoted ("-log-format
// \"xml\"").
func (s *Sources) Describe(name string) string {
	if s == nil || s.fs == nil {
		return "-" + name
	}
	f := s.fs.Lookup(name)
	if f == nil {
		return "-" + name
	}
	v := f.Value.String()
	if g, ok := f.Value.(flag.Getter); ok {
		if _, isString := g.Get().(string); isString {
			v = strconv.Quote(v)
		}
	}
	if env := s.env[name]; env != "" {
		return env + "=" + v
	}
	return "-" + name + " " + v
}
