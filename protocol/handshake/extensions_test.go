package handshake

import (
	"reflect"
	"testing"
)

// TestNextExtension reads extension lists (RFC 6455 §9.1, RFC 9110 §5.6)
// element by element: names, parameters with and without values, quoted
// values, empty elements, and where a broken list stops the reading.
func TestNextExtension(t *testing.T) {
	type ext struct {
		Name   string
		Params []ExtensionParam
		N      int
	}
	p := func(name string) ExtensionParam { return ExtensionParam{Name: name} }
	pv := func(name, value string) ExtensionParam {
		return ExtensionParam{Name: name, Value: value, HasValue: true}
	}
	tests := []struct {
		list string
		want []ext
		ok   bool // false: the list breaks the grammar after want
	}{
		{"", nil, true},
		{" , ,\t", nil, true},
		{"permessage-deflate", []ext{{Name: "permessage-deflate"}}, true},
		{"a; b, c;d=1 ,, e ; f = \"x\\\"y\"", []ext{
			{Name: "a", Params: []ExtensionParam{p("b")}, N: 1},
			{Name: "c", Params: []ExtensionParam{pv("d", "1")}, N: 1},
			{Name: "e", Params: []ExtensionParam{pv("f", `x\"y`)}, N: 1},
		}, true},
		{"x; a; b; c; d; e; f=2, y", []ext{
			{Name: "x", Params: []ExtensionParam{p("a"), p("b"), p("c"), p("d")}, N: 6},
			{Name: "y"},
		}, true},
		{`q; v=""`, []ext{{Name: "q", Params: []ExtensionParam{pv("v", "")}, N: 1}}, true},
		{"a, ;b", []ext{{Name: "a"}}, false},                           // an element without a name
		{"a b", nil, false},                                            // two tokens
		{"a; =1", nil, false},                                          // a parameter without a name
		{"a; b=", nil, false},                                          // "=" without a value
		{`a; b="open`, nil, false},                                     // unterminated quoted-string
		{"a; b=\"\x01\"", nil, false},                                  // a control character in a quoted-string
		{"a; b=c/d, e", nil, false},                                    // "/" is not a token character
		{"ok, permessage-deflate; x=\"\\", []ext{{Name: "ok"}}, false}, // a lone backslash at the end
	}
	for _, tt := range tests {
		var got []ext
		ok := true
		for i, more := 0, true; more; {
			var e Extension
			e, i, more, ok = NextExtension(tt.list, i)
			if !ok || !more {
				break
			}
			got = append(got, ext{Name: e.Name, Params: append([]ExtensionParam(nil), e.Params[:min(e.N, MaxExtensionParams)]...), N: e.N})
		}
		for i := range got {
			if len(got[i].Params) == 0 {
				got[i].Params = nil
			}
		}
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("NextExtension over %q: %+v, ok %v; want %+v, ok %v", tt.list, got, ok, tt.want, tt.ok)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _, _, _ = NextExtension("permessage-deflate; client_max_window_bits=\"10\"", 0) }); n != 0 {
		t.Errorf("NextExtension allocates %v times; want 0", n)
	}
}
