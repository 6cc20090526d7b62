package protocol

// The Sec-WebSocket-Extensions grammar (RFC 6455 §9.1), as a client sends
// it, with the list rules of RFC 9110 §5.6.1 (OWS around commas, empty
// elements ignored) and quoted-string values (RFC 9110 §5.6.4):
//
//	Sec-WebSocket-Extensions = extension-list
//	extension-list = 1#extension
//	extension = extension-token *( ";" extension-param )
//	extension-token = registered-token
//	registered-token = token
//	extension-param = token [ "=" (token | quoted-string) ]
//
// Several header lines are one list (§9.1: "can be sent multiple times in
// an HTTP request"; the parser joins them with ", " into
// Request.Extensions). The parser works on that string in place and never
// allocates.

// maxExtParams is how many parameters of one offer extOffer keeps: more
// than that many cannot be a valid permessage-deflate offer (it defines
// four, none of which may repeat), so the rest are only counted.
const maxExtParams = 4

// extParam is one extension-param: its name and its value, unquoted but
// with backslash escapes left in (a value with escapes is never a valid
// window size, see parseWindowBits).
type extParam struct {
	name, value string
	hasValue    bool
}

// extOffer is one element of the extension list: an extension name and its
// parameters, in order (the first maxExtParams of n).
type extOffer struct {
	name   string
	params [maxExtParams]extParam
	n      int
}

// nextExtension parses the extension list s from offset i: it skips empty
// elements and returns the next offer and the offset just past it (and past
// its comma). more is false when the list is exhausted; ok is false when
// the list breaks the grammar at or before the next offer (the offer is
// then meaningless and no later one can be found: the caller stops).
func nextExtension(s string, i int) (o extOffer, next int, more, ok bool) {
	for {
		i = skipOWS(s, i)
		if i == len(s) {
			return o, i, false, true
		}
		if s[i] != ',' {
			break
		}
		i++
	}
	var tok string
	if tok, i = scanToken(s, i); tok == "" {
		return o, i, true, false
	}
	o.name = tok
	for {
		i = skipOWS(s, i)
		if i == len(s) {
			return o, i, true, true
		}
		switch s[i] {
		case ',':
			return o, i + 1, true, true
		case ';':
		default:
			return o, i, true, false
		}
		var p extParam
		if p.name, i = scanToken(s, skipOWS(s, i+1)); p.name == "" {
			return o, i, true, false
		}
		// RFC 6455 allows no whitespace around "=", but RFC 9110's
		// parameter rule (§5.6.6) has BWS there: accept it.
		if j := skipOWS(s, i); j < len(s) && s[j] == '=' {
			p.hasValue = true
			j = skipOWS(s, j+1)
			if j < len(s) && s[j] == '"' {
				p.value, i = scanQuoted(s, j)
				if i < 0 {
					return o, len(s), true, false
				}
			} else if p.value, i = scanToken(s, j); p.value == "" {
				return o, i, true, false
			}
		}
		if o.n < len(o.params) {
			o.params[o.n] = p
		}
		o.n++
	}
}

// scanToken returns the token (RFC 9110 §5.6.2) starting at s[i], maybe
// empty, and the offset after it.
func scanToken(s string, i int) (string, int) {
	j := i
	for j < len(s) && tokenChars[s[j]] != 0 {
		j++
	}
	return s[i:j], j
}

// scanQuoted reads the quoted-string starting with the DQUOTE at s[i]
// (RFC 9110 §5.6.4): it returns its content (escapes left in) and the
// offset after the closing DQUOTE, or -1 when it is not terminated or
// holds a byte a quoted-string may not.
func scanQuoted(s string, i int) (string, int) {
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return s[i+1 : j], j + 1
		case c == '\\':
			if j++; j == len(s) || !quotedPairChar(s[j]) {
				return "", -1
			}
		case !qdtextChar(c):
			return "", -1
		}
	}
	return "", -1
}

// qdtextChar: HTAB, SP, %x21, %x23-5B, %x5D-7E, obs-text (RFC 9110 §5.6.4).
func qdtextChar(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c != '\\' && c != 0x7f)
}

// quotedPairChar: what may follow a backslash: HTAB, SP, VCHAR, obs-text.
func quotedPairChar(c byte) bool { return c == '\t' || (c >= ' ' && c != 0x7f) }

// skipOWS returns the offset of the first byte at or after i that is not
// SP or HTAB.
func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}
