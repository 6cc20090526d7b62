package envflag

import (
	"errors"
	"flag"
	"strconv"
)

// commandLineOnly is implemented by the values of flags that have no
// environment variable.
type commandLineOnly interface{ commandLineOnly() }

// isCommandLineOnly reports whether f has no environment variable.
func isCommandLineOnly(f *flag.Flag) bool {
	_, ok := f.Value.(commandLineOnly)
	return ok
}

// CommandLineBool defines a boolean flag that has no environment variable:
// one that asks the command for something other than serving, such as
// -version, which a variable left in an environment must not turn on.
// Annotate gives it no "(env ...)", Apply never sets it, and Strays counts
// its would-be variable as naming no flag.
func CommandLineBool(fs *flag.FlagSet, p *bool, name string, usage string) {
	*p = false
	fs.Var(&cmdBool{p}, name, usage)
}

type cmdBool struct{ p *bool }

func (*cmdBool) commandLineOnly() {}
func (*cmdBool) IsBoolFlag() bool { return true }

func (b *cmdBool) String() string {
	if b == nil || b.p == nil {
		return "false"
	}
	return strconv.FormatBool(*b.p)
}

func (b *cmdBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false")
	}
	*b.p = v
	return nil
}

func (b *cmdBool) Get() any { return *b.p }
