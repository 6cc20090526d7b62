package interop

// The script-driven interoperability tests (Python's websockets in
// interop_python_test.go, Node's ws in interop_node_test.go) run a client
// script against two servers over loopback; the script prints one JSON
// object of what it observed, interopReport, and the expectations live
// here, once for both.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// interopScriptTimeout bounds a whole client script run.
const interopScriptTimeout = 90 * time.Second

// interopScriptSizes are the message sizes each script must have echoed, as
// text and as binary.
var interopScriptSizes = []int{0, 1, 125, 126, 65535, 65536, 1 << 20}

// interopReport is what a client script prints (testdata/*/client.*).
type interopReport struct {
	Client       string               `json:"client"`     // library, version and runtime
	Extensions   string               `json:"extensions"` // negotiated on a connection that offered permessage-deflate
	Subprotocols []interopSubprotocol `json:"subprotocols"`
	Echo         []struct {
		Name    string `json:"name"`
		Kind    string `json:"kind"`
		Size    int    `json:"size"`
		GotKind string `json:"got_kind"`
		GotSize int    `json:"got_size"`
		Equal   bool   `json:"equal"` // byte-exact, compared by the script
		Error   string `json:"error"` // what the library said when the echo failed
	} `json:"echo"`
	Pings []struct {
		Name string `json:"name"`
		Pong bool   `json:"pong"` // a pong with the ping's payload came back
	} `json:"pings"`
	Close struct {
		Sent    int     `json:"sent"`    // the code the client closed with
		Code    int     `json:"code"`    // the code of the server's close frame
		Reason  string  `json:"reason"`  // its reason
		Seconds float64 `json:"seconds"` // from the client's close to TCP closed
	} `json:"close"`
	InvalidUTF8 struct {
		Code    int    `json:"code"`    // close code after a text frame of invalid UTF-8
		Skipped string `json:"skipped"` // why the library could not send it
	} `json:"invalid_utf8"`
	deflate bool // the servers ran with -deflate: an extension is expected

	TooBig struct {
		Code         int  `json:"code"`           // close code after a 1025-byte message to a 1024 limit
		AtLimitEqual bool `json:"at_limit_equal"` // a 1024-byte message echoed byte-exact
	} `json:"too_big"`
}

// interopRunScript starts the server twice, with the default configuration
// and with -max-message 1024, runs argv with the two addresses appended, and
// decodes what the script printed.
func interopRunScript(t *testing.T, argv ...string) *interopReport {
	t.Helper()
	return interopRunScriptWith(t, false, argv...)
}

// interopRunScriptWith is interopRunScript with both servers started with
// -deflate when deflate is set: the script's whole run then goes through
// permessage-deflate wherever its library compresses.
func interopRunScriptWith(t *testing.T, deflate bool, argv ...string) *interopReport {
	t.Helper()
	cfg := testkit.Config()
	cfg.Deflate = deflate
	addr := testkit.StartAddr(t, cfg)
	cfg.MaxMessage = 1024
	small := testkit.StartAddr(t, cfg)

	ctx, cancel := context.WithTimeout(context.Background(), interopScriptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], addr, small)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %v\nstderr:\n%s", strings.Join(argv, " "), interopScriptTimeout, stderr.Bytes())
	}
	if err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s", strings.Join(argv, " "), err, stderr.Bytes())
	}
	var r interopReport
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("%s printed %q: %v", strings.Join(argv, " "), stdout.Bytes(), err)
	}
	t.Logf("%s ran in %v", r.Client, time.Since(start).Round(time.Millisecond))
	r.deflate = deflate
	return &r
}

// interopSubprotocol is one handshake of a script: what it offered (in
// order) and what the server selected ("" for none).
type interopSubprotocol struct {
	Offer    []string `json:"offer"`
	Selected string   `json:"selected"`
}

// check asserts every observation of r.
func (r *interopReport) check(t *testing.T) {
	t.Helper()
	if r.deflate && !strings.Contains(strings.ToLower(r.Extensions), "deflate") {
		t.Errorf("%s negotiated extensions %q with -deflate; want permessage-deflate", r.Client, r.Extensions)
	} else if !r.deflate && r.Extensions != "" {
		t.Errorf("%s negotiated extensions %q; want none", r.Client, r.Extensions)
	}

	for _, o := range interopOffers {
		i := slices.IndexFunc(r.Subprotocols, func(s interopSubprotocol) bool { return slices.Equal(s.Offer, o.offer) })
		if i < 0 {
			t.Errorf("%s: no handshake offering %q", r.Client, o.offer)
		} else if got := r.Subprotocols[i].Selected; got != o.want {
			t.Errorf("%s: offer %q selected %q; want %q", r.Client, o.offer, got, o.want)
		}
	}

	var names []string
	for _, e := range r.Echo {
		names = append(names, e.Name)
		if e.Error != "" {
			t.Errorf("%s: echo %s of %s %d bytes: %s", r.Client, e.Name, e.Kind, e.Size, e.Error)
		} else if e.GotKind != e.Kind || e.GotSize != e.Size || !e.Equal {
			t.Errorf("%s: echo %s of %s %d bytes = %s %d bytes, byte-exact %v", r.Client, e.Name, e.Kind, e.Size, e.GotKind, e.GotSize, e.Equal)
		}
	}
	for _, n := range interopScriptSizes {
		for _, k := range []string{"text", "binary"} {
			if name := fmt.Sprintf("%s/%d", k, n); !slices.Contains(names, name) {
				t.Errorf("%s: no echo %s", r.Client, name)
			}
		}
	}

	if len(r.Pings) < 2 {
		t.Errorf("%s: %d pings; want at least 2", r.Client, len(r.Pings))
	}
	for _, p := range r.Pings {
		if !p.Pong {
			t.Errorf("%s: %s got no pong", r.Client, p.Name)
		}
	}

	if r.Close.Sent == 0 || r.Close.Code != r.Close.Sent {
		t.Errorf("%s: closed with %d, server answered %d %q; want its echo", r.Client, r.Close.Sent, r.Close.Code, r.Close.Reason)
	}
	// The server closes TCP right after the close handshake (§7.1.1); the
	// clients wait 30 s for it and the server's close timeout is 5 s, so a
	// server that leaves it to the client shows here.
	if r.Close.Seconds > 3 {
		t.Errorf("%s: close handshake and TCP close took %.3fs", r.Client, r.Close.Seconds)
	}

	if r.InvalidUTF8.Skipped != "" {
		t.Logf("%s: invalid UTF-8 not tested: %s", r.Client, r.InvalidUTF8.Skipped)
	} else if r.InvalidUTF8.Code != 1007 {
		t.Errorf("%s: invalid UTF-8 in a text message closed with %d; want 1007", r.Client, r.InvalidUTF8.Code)
	}

	if !r.TooBig.AtLimitEqual {
		t.Errorf("%s: a message of exactly -max-message bytes did not echo byte-exact", r.Client)
	}
	if r.TooBig.Code != 1009 {
		t.Errorf("%s: a message over -max-message closed with %d; want 1009", r.Client, r.TooBig.Code)
	}
}
