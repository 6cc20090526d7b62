package osprobe

import "testing"

func TestParseMemTotal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"MemTotal:       24683652 kB\nMemFree:        20186596 kB\n", 24683652 << 10},
		{"MemFree: 1 kB\nMemTotal: 2048 kB\n", 2 << 20},
		{"MemTotal: 2048\n", 0},                 // no unit
		{"MemTotal: -5 kB\n", 0},                // negative
		{"MemTotal: lots kB\n", 0},              // not a number
		{"MemTotal: 99999999999999999 kB\n", 0}, // overflows bytes
		{"", 0},
	} {
		if got := ParseMemTotal([]byte(tc.in)); got != tc.want {
			t.Errorf("ParseMemTotal(%q) = %d; want %d", tc.in, got, tc.want)
		}
	}
}
func TestParseCgroupLimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"536870912\n", 512 << 20},
		{"max\n", 0},                 // v2: no limit
		{"9223372036854771712\n", 0}, // v1: no limit
		{"0\n", 0},
		{"", 0},
	} {
		if got := ParseCgroupLimit([]byte(tc.in)); got != tc.want {
			t.Errorf("ParseCgroupLimit(%q) = %d; want %d", tc.in, got, tc.want)
		}
	}
}
