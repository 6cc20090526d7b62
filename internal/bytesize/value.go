package bytesize

import (
	"errors"
	"flag"
	"fmt"
	"math"
)

// Value is a flag.Value holding a size in an int64 or an int (set with
// Int64Var or IntVar). Its String is Format's, so a flag's default shows in
// -h as "64MiB".
type Value struct {
	p64 *int64
	p   *int
}

// Int64Var defines a size flag in fs, stored in *p, with default value.
// Its usage may name the value with back quotes ("largest `size` of a
// message") for -h to show "-name size".
func Int64Var(fs *flag.FlagSet, p *int64, name string, value int64, usage string) {
	*p = value
	fs.Var(&Value{p64: p}, name, usage)
}

// IntVar is Int64Var for an int.
func IntVar(fs *flag.FlagSet, p *int, name string, value int, usage string) {
	*p = value
	fs.Var(&Value{p: p}, name, usage)
}

// Set parses s with Parse. Its error is the reason alone (what a size
// looks like), for the flag's error to quote the value.
func (v *Value) Set(s string) error {
	n, err := Parse(s)
	if err != nil {
		return errors.New(err.(*Error).Reason) // the flag's error quotes the value
	}
	switch {
	case v.p64 != nil:
		*v.p64 = n
	case v.p != nil:
		if n > math.MaxInt {
			return fmt.Errorf("too large (at most %s)", Format(math.MaxInt))
		}
		*v.p = int(n)
	}
	return nil
}

// String is the size as Format writes it; "0" for a zero Value.
func (v *Value) String() string {
	switch {
	case v == nil:
		return "0"
	case v.p64 != nil:
		return Format(*v.p64)
	case v.p != nil:
		return Format(int64(*v.p))
	}
	return "0"
}

// Get returns the size as an int64 (flag.Getter).
func (v *Value) Get() any {
	switch {
	case v.p64 != nil:
		return *v.p64
	case v.p != nil:
		return int64(*v.p)
	}
	return int64(0)
}
