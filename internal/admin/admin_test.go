package admin

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code, rec.Body.String()
}

func TestRoutes(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_things_total", Help: "Things."})
	reg.MustRegister(c)
	c.Add(3)
	s := &Server{}
	h := s.Handler(reg)
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/healthz", 200, "ok\n"},
		{"/readyz", 503, "not ready\n"},
		{"/metrics", 200, "test_things_total 3\n"},
		{"/debug/pprof/", 200, "goroutine"},
		{"/debug/pprof/cmdline", 200, ""},
		{"/nothing", 404, ""},
	} {
		code, body := get(t, h, tc.path)
		if code != tc.status || !strings.Contains(body, tc.body) {
			t.Errorf("GET %s = %d %q; want %d containing %q", tc.path, code, body, tc.status, tc.body)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/readyz", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /readyz = %d; want 405", rec.Code)
	}
}

func TestReadiness(t *testing.T) {
	s := &Server{}
	h := s.Handler(nil)
	for _, step := range []struct {
		ready  bool
		status int
	}{{true, 200}, {false, 503}, {true, 200}} {
		s.SetReady(step.ready)
		if code, _ := get(t, h, "/readyz"); code != step.status || s.Ready() != step.ready {
			t.Errorf("after SetReady(%v): /readyz = %d, Ready() = %v; want %d", step.ready, code, s.Ready(), step.status)
		}
		if code, _ := get(t, h, "/healthz"); code != 200 {
			t.Errorf("after SetReady(%v): /healthz = %d; want 200 always", step.ready, code)
		}
	}
}

func TestListenServeClose(t *testing.T) {
	s, err := Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + s.Addr().String()
	s.SetReady(true)
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ready\n" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("GET /readyz = %d %q (Cache-Control %q); want 200 \"ready\\n\", no-store", resp.StatusCode, body, resp.Header.Get("Cache-Control"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("GET after Close succeeded; want connection refused")
	}
}

func TestListenBadAddress(t *testing.T) {
	_, err := Listen("127.0.0.1:notaport", nil)
	if err == nil || !strings.Contains(err.Error(), `admin: listen on "127.0.0.1:notaport"`) {
		t.Errorf("Listen(bad) = %v; want an error quoting the address", err)
	}
}
