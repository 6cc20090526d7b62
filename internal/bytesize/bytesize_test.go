package bytesize

import (
	"errors"
	"flag"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"1", 1},
		{"1048576", 1 << 20},
		{"512B", 512},
		{"512KiB", 512 << 10},
		{"64MiB", 64 << 20},
		{"1GiB", 1 << 30},
		{"2TiB", 2 << 40},
		{"1PiB", 1 << 50},
		{"7EiB", 7 << 60},
		{"64mib", 64 << 20},
		{"64MIB", 64 << 20},
		{"64 MiB", 64 << 20},
		{" 64MiB ", 64 << 20},
		{"1.5KiB", 1536},
		{"1.5GiB", 3 << 29},
		{"0.5KiB", 512},
		{".5KiB", 512},
		{"2.KiB", 2048},
		{"0.0009765625KiB", 1},
		{"0KiB", 0},
		{"9223372036854775807", math.MaxInt64},
		{"007", 7},
	} {
		got, err := Parse(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want: a part of the message
	}{
		{"", "want a number of bytes"},
		{"lots", "want a number of bytes"},
		{"MiB", "want a number of bytes"},
		{".", "want a number of bytes"},
		{"1.2.3", "want a number of bytes"},
		{"-1", "negative"},
		{"-1MiB", "negative"},
		{"64MB", "ambiguous"},
		{"64mb", "ambiguous"},
		{"64M", "write 64MiB"},
		{"1G", "write 1GiB"},
		{"512k", "write 512KiB"},
		{"512KB", "write 512KiB"},
		{"1TB", "write 1TiB"},
		{"64 MB", "ambiguous"},
		{"64Mi", `unknown unit "Mi"`},
		{"64 bytes", `unknown unit "bytes"`},
		{"0x10", `unknown unit "x10"`},
		{"1e6", `unknown unit "e6"`},
		{"64MiB64", `unknown unit "MiB64"`},
		{"0.3KiB", "not a whole number of bytes"},
		{"1.5", "not a whole number of bytes"},
		{"8EiB", "too large"},
		{"9223372036854775808", "too large"},
		{"99999999999999999999999GiB", "too large"},
		{strings.Repeat("9", 101), "more than 100 characters"},
	} {
		got, err := Parse(tc.in)
		var e *Error
		if !errors.As(err, &e) || e.Input != tc.in || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %d, %v; want an error containing %q", tc.in, got, err, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{
		{0, "0"},
		{1, "1"},
		{1000, "1000"},
		{1023, "1023"},
		{1024, "1KiB"},
		{1536, "1536"},
		{512 << 10, "512KiB"},
		{64 << 20, "64MiB"},
		{1 << 30, "1GiB"},
		{6 << 30, "6GiB"},
		{3 << 29, "1536MiB"},
		{1 << 62, "4EiB"},
		{math.MaxInt64, "9223372036854775807"},
		{-5, "-5"},
	} {
		if got := Format(tc.in); got != tc.want {
			t.Errorf("Format(%d) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// TestFlag: the value type in a flag set: default shown as Format writes
// it, sizes with units set, errors say what is wanted, int range checked.
func TestFlag(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var max int64
	var buf int
	Int64Var(fs, &max, "max-message", 64<<20, "largest `size` of a message")
	IntVar(fs, &buf, "write-buffer-limit", 1<<20, "bytes of output")
	if f := fs.Lookup("max-message"); f.DefValue != "64MiB" || max != 64<<20 {
		t.Errorf("default: DefValue %q, value %d; want 64MiB, %d", f.DefValue, max, 64<<20)
	}
	if name, _ := flag.UnquoteUsage(fs.Lookup("max-message")); name != "size" {
		t.Errorf("UnquoteUsage name = %q; want size", name)
	}
	if err := fs.Parse([]string{"-max-message", "1GiB", "-write-buffer-limit", "512KiB"}); err != nil {
		t.Fatal(err)
	}
	if max != 1<<30 || buf != 512<<10 {
		t.Errorf("after Parse: %d, %d; want %d, %d", max, buf, 1<<30, 512<<10)
	}
	if got := fs.Lookup("max-message").Value.(flag.Getter).Get(); got != int64(1<<30) {
		t.Errorf("Get = %v; want %d", got, 1<<30)
	}
	err := fs.Set("max-message", "64MB")
	if err == nil || !strings.Contains(err.Error(), "64MiB") {
		t.Errorf("Set(64MB) = %v; want the ambiguity named", err)
	}
	if strconv.IntSize == 32 {
		if err := fs.Set("write-buffer-limit", "4GiB"); err == nil {
			t.Errorf("Set(4GiB) on a 32-bit int: no error")
		}
	}
}
