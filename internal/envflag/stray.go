package envflag

import (
	"flag"
	"slices"
	"strings"
)

// Stray is an environment variable with the prefix that is no flag's.
type Stray struct {
	Name    string // the variable
	Nearest string // the flag variable it may be a misspelling of; "" when none is near
}

// Strays lists the variables of environ (os.Environ's KEY=VALUE form) that
// start with prefix and an underscore but are no flag's variable and not
// in notFlags (variables the program sets for itself, such as the worker
// index of a supervised process), sorted by name. A misspelled variable
// (WSREACTOR_MAXMESSAGE) would otherwise be ignored without a word.
func Strays(fs *flag.FlagSet, prefix string, environ []string, notFlags ...string) []Stray {
	known := make(map[string]bool)
	var vars []string
	fs.VisitAll(func(f *flag.Flag) {
		if isCommandLineOnly(f) {
			return
		}
		n := Name(prefix, f.Name)
		known[n] = true
		vars = append(vars, n)
	})
	for _, n := range notFlags {
		known[n] = true
	}
	var out []Stray
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, prefix+"_") || known[name] {
			continue
		}
		known[name] = true // listed once, even if environ repeats it
		out = append(out, Stray{Name: name, Nearest: nearest(name, vars)})
	}
	slices.SortFunc(out, func(a, b Stray) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// nearest is the candidate that name most likely misspells: the one equal
// to it but for case, '-' and '_', else the one within an edit distance of
// 2 (the nearest, the first of equals); "" when none is.
func nearest(name string, candidates []string) string {
	fold := func(s string) string {
		return strings.ToLower(strings.NewReplacer("_", "", "-", "", ".", "").Replace(s))
	}
	for _, c := range candidates {
		if fold(c) == fold(name) {
			return c
		}
	}
	best, bestD := "", 3
	for _, c := range candidates {
		if d := distance(strings.ToLower(name), strings.ToLower(c), bestD); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b, or limit when it is at
// least limit (the rows stop early past it; names are short).
func distance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}
