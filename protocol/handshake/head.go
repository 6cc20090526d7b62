package handshake

import (
	"bytes"
	"strings"
)

// Head is a request head that Parser.FeedHead accepted: the request line,
// then header lines, each ended by LF or CRLF, then the empty line. Its
// syntax is checked (no obs-fold, a colon on every line), so its methods
// only find things in it.
type Head []byte

// Values returns the values of every header line named name (compared
// ignoring ASCII case), in order, with optional whitespace trimmed; nil when
// there is none. Each value is a copy.
func (h Head) Values(name string) []string {
	var out []string
	h.each(name, func(v []byte) bool { out = append(out, string(v)); return true })
	return out
}

// Get returns the value of the first header line named name, "" when there
// is none.
func (h Head) Get(name string) string {
	var out string
	h.each(name, func(v []byte) bool { out = string(v); return false })
	return out
}

// each calls f with the value of every header line named name until f
// returns false.
func (h Head) each(name string, f func([]byte) bool) {
	rest := []byte(h)
	if i := bytes.IndexByte(rest, '\n'); i >= 0 {
		rest = rest[i+1:] // the request line
	} else {
		return
	}
	for len(rest) > 0 {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		line = trimCR(line)
		if len(line) == 0 {
			return // the end of the head
		}
		k, v, ok := bytes.Cut(line, []byte{':'})
		if ok && len(k) == len(name) && strings.EqualFold(string(k), name) {
			if !f(trimOWS(v)) {
				return
			}
		}
	}
}
