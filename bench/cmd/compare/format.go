package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// thousands formats v rounded to an integer with comma separators: 1,234,567.
func thousands(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// micros formats a latency given in microseconds: "85 µs", "1.25 ms", "2.1 s".
func micros(us float64) string {
	switch {
	case us <= 0:
		return "–"
	case us < 1000:
		return fmt.Sprintf("%.0f µs", us)
	case us < 10000:
		return fmt.Sprintf("%.2f ms", us/1000)
	case us < 1e6:
		return fmt.Sprintf("%.1f ms", us/1000)
	}
	return fmt.Sprintf("%.2f s", us/1e6)
}

// fineMicros formats a small duration in microseconds with three
// significant digits: "0.652 µs", "12.3 µs", "456 µs".
func fineMicros(us float64) string {
	switch {
	case us <= 0:
		return "–"
	case us < 1000:
		return fmt.Sprintf("%.3g µs", us)
	}
	return micros(us)
}

// mib formats a size given in KiB as MiB: "12.3 MiB".
func mib(kib float64) string {
	if kib <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f MiB", kib/1024)
}

// ratio formats a ratio: "12.3×"; "–" when there is none.
func ratio(v float64, ok bool) string {
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return "–"
	}
	if v >= 10 {
		return fmt.Sprintf("%.0f×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

// mdEscape makes s safe inside a Markdown table cell.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
