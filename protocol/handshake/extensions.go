package handshake

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

// MaxExtensionParams is how many parameters of one extension NextExtension
// keeps in an Extension. An element with more is still read (its syntax is
// checked) and counted in Extension.N; a registered extension defines a few
// parameters that may not repeat, so a caller that sees N >
// MaxExtensionParams can decline the offer without looking further.
const MaxExtensionParams = 4

// ExtensionParam is one extension-param: its name and its value, unquoted
// but with backslash escapes left in. HasValue tells "name" from "name=".
type ExtensionParam struct {
	Name, Value string
	HasValue    bool
}

// Extension is one element of the extension list: an extension name and
// its parameters, in order (the first MaxExtensionParams of N). Its
// strings alias the list it was read from.
type Extension struct {
	Name   string
	Params [MaxExtensionParams]ExtensionParam
	N      int
}

// NextExtension reads the extension list s (a Sec-WebSocket-Extensions
// value, e.g. Request.Extensions) from offset i: it skips empty elements
// and returns the next extension and the offset just past it (and past its
// comma), where the next call starts. more is false when the list is
// exhausted; ok is false when the list breaks the grammar at or before the
// next extension (the extension is then meaningless and no later one can
// be found: the caller stops). Start with i = 0:
//
//	for i, more := 0, true; more; {
//		var e handshake.Extension
//		var ok bool
//		if e, i, more, ok = handshake.NextExtension(list, i); !ok || !more {
//			break
//		}
//		// use e
//	}
//
// It allocates nothing. Safe from any goroutine.
func NextExtension(s string, i int) (o Extension, next int, more, ok bool) {
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
	o.Name = tok
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
		var p ExtensionParam
		if p.Name, i = scanToken(s, skipOWS(s, i+1)); p.Name == "" {
			return o, i, true, false
		}
		// RFC 6455 allows no whitespace around "=", but RFC 9110's
		// parameter rule (§5.6.6) has BWS there: accept it.
		if j := skipOWS(s, i); j < len(s) && s[j] == '=' {
			p.HasValue = true
			j = skipOWS(s, j+1)
			if j < len(s) && s[j] == '"' {
				p.Value, i = scanQuoted(s, j)
				if i < 0 {
					return o, len(s), true, false
				}
			} else if p.Value, i = scanToken(s, j); p.Value == "" {
				return o, i, true, false
			}
		}
		if o.N < len(o.Params) {
			o.Params[o.N] = p
		}
		o.N++
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
