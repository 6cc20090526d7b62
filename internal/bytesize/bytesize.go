// Package bytesize reads and writes sizes in bytes the way the command's
// flags take them: a whole number of bytes ("1048576"), or a number with a
// binary (IEC 80000-13) unit, "512KiB", "64MiB", "1.5GiB".
//
// Units are powers of 1024 only: KiB, MiB, GiB, TiB, PiB, EiB, and B for
// bytes. Their case does not matter ("64mib"), and a space may stand between
// the number and the unit ("64 MiB"). The decimal and the bare units ("64MB",
// "64M", "1G", "512k") are refused, with the two values they could mean:
// the SI units mean powers of 1000, but many programs read them as powers of
// 1024, and a limit off by 5 to 10 percent is found late. A number with a
// fraction is taken when it makes a whole number of bytes ("1.5KiB" is 1536,
// "0.3KiB" is refused). Negative sizes and sizes past the int64 range are
// refused.
//
// Format writes a size with the largest unit that divides it ("64MiB",
// "1536" for 1.5 KiB); Parse(Format(n)) is n for every n >= 0.
package bytesize

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// units are the binary units, smallest first; the index is the power of 1024.
var units = [...]string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

// ambiguous are the units refused because they may mean either power, by
// their power of 1000 (and of 1024): k, M, G, T, P, E with and without B.
var ambiguous = map[string]int{
	"k": 1, "kb": 1, "m": 2, "mb": 2, "g": 3, "gb": 3,
	"t": 4, "tb": 4, "p": 5, "pb": 5, "e": 6, "eb": 6,
}

// maxDigits bounds the number's length: 19 digits reach the int64 range,
// and a fraction of a byte in EiB takes 60 (2^-60 written out).
const maxDigits = 100

// Want says what a size looks like, for error messages.
const Want = "want a number of bytes, or a number with a unit of 1024: KiB, MiB, GiB, TiB (e.g. 1048576, 512KiB, 64MiB, 1.5GiB)"

// Error is Parse's error: the input and what is wrong with it.
type Error struct {
	Input  string
	Reason string // what is wanted, or why the input is refused
}

func (e *Error) Error() string { return "bytesize: " + strconv.Quote(e.Input) + ": " + e.Reason }

func errorf(s, format string, args ...any) error {
	return &Error{Input: s, Reason: fmt.Sprintf(format, args...)}
}

// Parse reads a size (see the package comment).
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	if strings.HasPrefix(t, "-") {
		return 0, errorf(s, "negative; %s", Want)
	}
	if len(num) > maxDigits {
		return 0, errorf(s, "a number of more than %d characters", maxDigits)
	}
	if num == "" || strings.Count(num, ".") > 1 || num == "." {
		return 0, errorf(s, "%s", Want)
	}
	power := -1
	for p, u := range units {
		if strings.EqualFold(unit, u) {
			power = p
		}
	}
	if unit == "" {
		power = 0
	}
	if power < 0 {
		if p, ok := ambiguous[strings.ToLower(unit)]; ok {
			return 0, errorf(s, "%s is ambiguous (a power of 1000 in SI, of 1024 in many programs): write %s%s for a power of 1024, or the number of bytes",
				unit, num, units[p])
		}
		return 0, errorf(s, "unknown unit %q; %s", unit, Want)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, errorf(s, "%s", Want)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), uint(10*power))))
	if !r.IsInt() {
		return 0, errorf(s, "not a whole number of bytes (%s)", r.FloatString(3))
	}
	n := r.Num()
	if !n.IsInt64() {
		return 0, errorf(s, "too large (at most %d bytes, about 8EiB)", int64(math.MaxInt64))
	}
	return n.Int64(), nil
}

// Format writes n with the largest binary unit that divides it exactly, or
// as a plain number of bytes: 67108864 is "64MiB", 1536 is "1536", 0 is
// "0". Negative values are written as plain numbers (Parse refuses them).
func Format(n int64) string {
	if n <= 0 {
		return strconv.FormatInt(n, 10)
	}
	p := 0
	for p+1 < len(units) && n%(1<<(10*(p+1))) == 0 {
		p++
	}
	if p == 0 {
		return strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n>>(10*p), 10) + units[p]
}
