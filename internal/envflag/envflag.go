// Package envflag fills the flags of a flag.FlagSet from environment
// variables: the flag -max-message is read from PREFIX_MAX_MESSAGE when it
// was not given on the command line. It works on whatever flags the set
// holds when it is called, so a flag added later gets its variable without
// further code.
//
// Precedence, from strongest: the command line, the environment, the flag's
// default.
package envflag

import (
	"flag"
	"fmt"
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
// in fs, so that -h lists the variables. Call it once, after every flag is
// defined and before fs.Parse.
func Annotate(fs *flag.FlagSet, prefix string) {
	fs.VisitAll(func(f *flag.Flag) {
		f.Usage += " (env " + Name(prefix, f.Name) + ")"
	})
}

// Apply sets every flag of fs that the command line did not set (fs.Parse
// has run) from its environment variable, when that variable is present,
// even empty. lookup is os.LookupEnv or a stand-in for tests; nil means
// os.LookupEnv. A value the flag rejects is an error naming the variable and
// quoting the value.
func Apply(fs *flag.FlagSet, prefix string, lookup func(string) (string, bool)) error {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || set[f.Name] {
			return
		}
		name := Name(prefix, f.Name)
		v, ok := lookup(name)
		if !ok {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("envflag: environment %s=%q (flag -%s): %v", name, v, f.Name, e)
		}
	})
	return err
}

// Parse is Annotate, fs.Parse(args) and Apply in one call, for a flag set
// whose flags are all defined.
func Parse(fs *flag.FlagSet, prefix string, args []string, lookup func(string) (string, bool)) error {
	Annotate(fs, prefix)
	if err := fs.Parse(args); err != nil {
		return err
	}
	return Apply(fs, prefix, lookup)
}
