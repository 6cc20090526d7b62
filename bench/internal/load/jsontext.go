//go:build linux

package load

import (
	"math/rand/v2"
	"strconv"
)

// JSON-like payloads for the compression scenarios (issue 10): an array of
// records shaped like an API's output (ids, names, e-mail addresses, times,
// flags, numbers, short tag lists, a few non-ASCII names), so that DEFLATE
// finds the repeats real JSON has (keys, punctuation, domains) and not the
// runs of one byte that would flatter it. The text is valid UTF-8 and valid
// JSON, and depends only on the seed.

var (
	jsonFirst  = []string{"alice", "bob", "chloé", "david", "emma", "farid", "grace", "hugo", "inès", "jonas", "kenji", "laura", "maël", "nadia", "oscar", "priya", "quentin", "rosa", "søren", "tomás", "ulla", "victor", "wen", "yusuf", "zoë"}
	jsonLast   = []string{"martin", "bernard", "dubois", "müller", "schmidt", "rossi", "garcía", "kowalski", "nakamura", "okafor", "silva", "jensen", "novák", "ivanova", "o'brien", "lefèvre"}
	jsonDomain = []string{"example.com", "mail.example.org", "corp.example.net", "example.fr"}
	jsonCity   = []string{"Lyon", "Berlin", "Kraków", "Osaka", "Lagos", "Porto", "Aarhus", "Brno", "São Paulo", "Montréal", "Zürich", "Nantes"}
	jsonTag    = []string{"admin", "beta", "billing", "eu", "mobile", "premium", "support", "trial", "us", "web"}
	jsonStatus = []string{"active", "pending", "suspended", "active", "active"}
	jsonWords  = []string{"lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do", "eiusmod", "tempor"}
)

// appendJSONRecord appends one record, about 250 bytes.
func appendJSONRecord(b []byte, id int, rng *rand.Rand) []byte {
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	first, last := pick(jsonFirst), pick(jsonLast)
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, `,"user":{"name":"`...)
	b = append(b, first...)
	b = append(b, ' ')
	b = append(b, last...)
	b = append(b, `","email":"`...)
	b = append(b, first[:1]...)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(rng.IntN(10000)), 10)
	b = append(b, '@')
	b = append(b, pick(jsonDomain)...)
	b = append(b, `","city":"`...)
	b = append(b, pick(jsonCity)...)
	b = append(b, `"},"created":"2026-`...)
	b = append2(b, 1+rng.IntN(12))
	b = append(b, '-')
	b = append2(b, 1+rng.IntN(28))
	b = append(b, 'T')
	b = append2(b, rng.IntN(24))
	b = append(b, ':')
	b = append2(b, rng.IntN(60))
	b = append(b, ':')
	b = append2(b, rng.IntN(60))
	b = append(b, `Z","status":"`...)
	b = append(b, pick(jsonStatus)...)
	b = append(b, `","verified":`...)
	b = strconv.AppendBool(b, rng.IntN(3) > 0)
	b = append(b, `,"score":`...)
	b = strconv.AppendFloat(b, float64(rng.IntN(10000))/100, 'f', -1, 64)
	b = append(b, `,"balance":`...)
	b = strconv.AppendInt(b, int64(rng.IntN(2000000))-500000, 10)
	b = append(b, `,"tags":[`...)
	for i, n := 0, rng.IntN(4); i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, pick(jsonTag)...)
		b = append(b, '"')
	}
	return append(b, "]}"...)
}

func append2(b []byte, v int) []byte {
	return append(b, byte('0'+v/10), byte('0'+v%10))
}

// fillJSON fills p (at least 2 bytes) with a JSON array of records; the
// space a whole record does not fill is a last element of plain words, so
// the text is exactly len(p) bytes of valid JSON.
func fillJSON(p []byte, rng *rand.Rand) {
	n := len(p)
	if n < 2 {
		for i := range p {
			p[i] = '0'
		}
		return
	}
	b := append(p[:0:0], '[')
	var rec []byte
	for id := 1 + rng.IntN(100000); ; id++ {
		rec = appendJSONRecord(rec[:0], id, rng)
		sep := 0
		if len(b) > 1 {
			sep = 1
		}
		if len(b)+sep+len(rec)+1 > n {
			break
		}
		if sep == 1 {
			b = append(b, ',')
		}
		b = append(b, rec...)
	}
	// Room left r = n-1-len(b): a string element `,"words"` (or `"words"`
	// first) needs 3 (or 2) bytes beside its words; less is spaces.
	r := n - 1 - len(b)
	sep := 0
	if len(b) > 1 {
		sep = 1
	}
	if r >= sep+2 {
		if sep == 1 {
			b = append(b, ',')
		}
		b = append(b, '"')
		for w := r - sep - 2; w > 0; {
			word := jsonWords[rng.IntN(len(jsonWords))]
			if len(word)+1 > w {
				word = word[:w]
			} else if len(b) > 0 && b[len(b)-1] != '"' {
				word = " " + word[:min(len(word), w-1)]
			}
			b = append(b, word...)
			w -= len(word)
		}
		b = append(b, '"')
	}
	for len(b) < n-1 {
		b = append(b, ' ')
	}
	b = append(b, ']')
	copy(p, b[:n])
}
