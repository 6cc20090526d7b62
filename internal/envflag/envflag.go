// Package envflag fills the flags of a flag.FlagSet from environment
// variables: the flag -max-message is read from PREFIX_MAX_MESSAGE when it
// was not given on the command line. It works on whatever flags the set
// holds when it is called, so a flag added later gets its variable without
// further code.
//
// Precedence, from strongest: the command line, the environment, the flag's
// default.
//
// It also makes the command's errors say what is wanted: a value a flag
// refuses is an *Error naming where it came from (the flag, or the variable)
// and the kind of value wanted ("want a duration with a unit, like 30s");
// Sources.Describe names a setting for the command's own checks
// ("WSREACTOR_LOOPS=0: need at least 1"); Stray lists the variables with
// the prefix that name no flag (a misspelling would otherwise be ignored
// without a word).
package envflag

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Name is the environment variable of the flag called flagName: prefix,
// an underscore, then the flag's name in upper case with '-' and '.' turned
// into '_' (Name("WSREACTOR", "max-message") is "WSREACTOR_MAX_MESSAGE").
func Name(prefix, flagName string) string {
	up := strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flagName))
	return prefix + "_" + up
}

// Annotate appends " (env PREFIX_NAME)" to the usage of every flag defined
// in fs (but those of CommandLineBool), so that -h lists the variables. Call it once, after every flag is
// defined and before fs.Parse.
func Annotate(fs *flag.FlagSet, prefix string) {
	fs.VisitAll(func(f *flag.Flag) {
		if !isCommandLineOnly(f) {
			f.Usage += " (env " + Name(prefix, f.Name) + ")"
		}
	})
}

// Apply sets every flag of fs that the command line did not set (fs.Parse
// has run) from its environment variable, when that variable is present,
// even empty. lookup is os.LookupEnv or a stand-in for tests; nil means
// os.LookupEnv. A value the flag refuses is an *Error naming the variable,
// quoting the value and saying what is wanted. The Sources it returns (also
// with the error) tell which flags the environment set.
func Apply(fs *flag.FlagSet, prefix string, lookup func(string) (string, bool)) (*Sources, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	src := &Sources{fs: fs, env: make(map[string]string)}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || set[f.Name] || isCommandLineOnly(f) {
			return
		}
		name := Name(prefix, f.Name)
		v, ok := lookup(name)
		if !ok {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = &Error{Flag: f.Name, Var: name, Value: v, Reason: reason(f.Value, e)}
			return
		}
		src.env[f.Name] = name
	})
	return src, err
}

// Parse is Annotate, the parsing of args and Apply in one call, for a flag
// set whose flags are all defined. fs must use flag.ContinueOnError (the
// other modes exit from inside fs.Parse, before a better message can be
// given).
//
// On -h or -help it writes the usage to fs.Output() and returns
// flag.ErrHelp. On any other error it writes nothing and returns the one
// error, for the command to print with a pointer to -h (not the whole
// usage, in which the error is lost): a refused value is an *Error; an
// unknown flag names the nearest defined one when there is one.
func Parse(fs *flag.FlagSet, prefix string, args []string, lookup func(string) (string, bool)) (*Sources, error) {
	if fs.ErrorHandling() != flag.ContinueOnError {
		return nil, errors.New("envflag: Parse needs a flag set with flag.ContinueOnError")
	}
	Annotate(fs, prefix)
	if err := parseArgs(fs, args); err != nil {
		return &Sources{fs: fs}, err
	}
	return Apply(fs, prefix, lookup)
}

// parseArgs runs fs.Parse(args) with its output and usage held back and
// every flag's value wrapped, so that a refused value comes back as an
// *Error.
func parseArgs(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	var failed *Error
	values := make(map[*flag.Flag]flag.Value)
	fs.VisitAll(func(f *flag.Flag) {
		values[f] = f.Value
		r := recorder{Value: f.Value, name: f.Name, failed: &failed}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			f.Value = &boolRecorder{r}
		} else {
			f.Value = &r
		}
	})
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	for f, v := range values {
		f.Value = v
	}
	fs.SetOutput(out)
	fs.Usage = usage
	switch {
	case err == nil:
		return nil
	case failed != nil:
		return failed
	case errors.Is(err, flag.ErrHelp):
		if usage != nil {
			usage()
		} else {
			fmt.Fprintf(out, "Usage of %s:\n", fs.Name())
			fs.PrintDefaults()
		}
		return err
	}
	// The flag package's other errors: an unknown flag, a missing value,
	// bad syntax.
	if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if near := nearest(name, names); near != "" {
			return fmt.Errorf("-%s: no such flag; did you mean -%s?", name, near)
		}
		return fmt.Errorf("-%s: no such flag", name)
	}
	return err
}

// recorder wraps a flag's value while the command line is parsed, to turn
// the error of a refused value into an *Error.
type recorder struct {
	flag.Value
	name   string
	failed **Error
}

func (r *recorder) Set(s string) error {
	if err := r.Value.Set(s); err != nil {
		e := &Error{Flag: r.name, Value: s, Reason: reason(r.Value, err)}
		*r.failed = e
		return e
	}
	return nil
}

// boolRecorder is a recorder for a boolean flag, which the flag package
// lets stand without a value ("-deflate").
type boolRecorder struct{ recorder }

func (*boolRecorder) IsBoolFlag() bool { return true }
