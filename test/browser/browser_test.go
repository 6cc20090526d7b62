package browser

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/wsreactor/wsreactor/internal/testkit"
)

// The demo page in a real browser: headless Chromium, driven through the
// DevTools protocol by chromedp, opens the page the command serves on its
// WebSocket port and uses it as a person would.

// chromiumPath finds a Chromium or Chrome binary: $CHROMIUM, then the usual
// names on PATH.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowserDemoPage: the page connects back, negotiates "chat", sends
// its text once on open and shows the echo, echoes typed text (non-ASCII
// included), 256 binary bytes and 1 MiB byte-exact, and closes cleanly
// with 1000.
func TestBrowserDemoPage(t *testing.T) {
	chromium := chromiumPath()
	if chromium == "" {
		t.Skip("no Chromium found (set CHROMIUM, or apt-get install chromium; ./test.sh installs it)")
	}
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	srv := testkit.StartProc(t, "-loops", "2")
	url := "http://" + srv.Addr + "/"

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		// The machine may have no network: keep Chromium from trying.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true), // containers often have a tiny /dev/shm
	)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	// The first Run starts the browser; it must not carry the timeout.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()

	// text waits until the element's text satisfies the JavaScript condition
	// on s, and returns the text.
	text := func(id, cond string) string {
		t.Helper()
		expr := `(() => { const s = document.getElementById("` + id + `").textContent; return (` + cond + `) ? s : ""; })()`
		got, err := chromedp.Run(ctx, chromedp.Poll[string](expr, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))
		if err != nil {
			now, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID(id)))
			log, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("log")))
			t.Fatalf("#%s never met %s: %v; it reads %q; page log:\n%s", id, cond, err, now, log)
		}
		return got
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("opening %s: %v", url, err)
	}
	text("status", `s === "open"`)
	if got := text("protocol", `s !== ""`); got != "chat" {
		t.Errorf("page shows subprotocol %q; want chat", got)
	}
	t.Logf("page shows extensions %q", text("extensions", `s !== ""`))
	// On open the page sends its text field once, so the first look shows
	// an echo without a click.
	if got := text("text-result", `s !== "sent"`); got != "echoed: hello, reactor" {
		t.Errorf("first echo, sent on open, reads %q; want %q", got, "echoed: hello, reactor")
	}

	// Typed on the keyboard and sent with Enter, then set and sent with the
	// button (non-ASCII, a 4-byte code point).
	typed := "typed, then Enter"
	if err := chromedp.Do(ctx,
		chromedp.Clear(chromedp.ID("text")),
		chromedp.SendKeys(chromedp.ID("text"), typed+kb.Enter),
	); err != nil {
		t.Fatal(err)
	}
	if got := text("text-result", `s !== "sent" && s !== "echoed: hello, reactor"`); got != "echoed: "+typed {
		t.Errorf("typed text echo reads %q; want %q", got, "echoed: "+typed)
	}
	msg := "héllo, réactor ✓ 𝄞"
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("text"), msg),
		chromedp.Click(chromedp.ID("send-text")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text("text-result", `s !== "sent" && s !== "echoed: `+typed+`"`); got != "echoed: "+msg {
		t.Errorf("text echo reads %q; want %q", got, "echoed: "+msg)
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("send-binary"))); err != nil {
		t.Fatal(err)
	}
	if got := text("binary-result", `s !== "sent"`); !strings.HasPrefix(got, "256 bytes byte-exact in ") {
		t.Errorf("binary echo reads %q; want 256 bytes byte-exact", got)
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("send-big"))); err != nil {
		t.Fatal(err)
	}
	got := text("big-result", `s !== "sent"`)
	if !strings.HasPrefix(got, "1048576 bytes byte-exact in ") {
		t.Errorf("1 MiB echo reads %q; want 1048576 bytes byte-exact", got)
	}
	t.Logf("1 MiB through the page: %s", got)

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("close"))); err != nil {
		t.Fatal(err)
	}
	if got := text("close-result", `s !== ""`); !strings.HasPrefix(got, "closed 1000") || !strings.HasSuffix(got, "(clean)") {
		t.Errorf("close reads %q; want a clean close 1000", got)
	}
}
