package testkit

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// RawRequest writes req on a new connection and returns everything the
// server sends until it closes.
func RawRequest(t testing.TB, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading response: %v (got %q)", err, b)
	}
	return string(b)
}

// httpGet fetches url and returns the status and body; err for no answer.
func HTTPGet(url string) (int, string, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
