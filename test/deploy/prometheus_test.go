package deploy_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// TestPrometheusRulesCheck: promtool accepts the alert rules and their unit
// tests pass; the same unit tests fail on rules whose expressions never
// fire, so they test the rules and not themselves.
func TestPrometheusRulesCheck(t *testing.T) {
	promtool := needTool(t, "promtool", "prometheus")
	dir := deployPath(t, "prometheus")
	for _, args := range [][]string{
		{"check", "rules", "alerts.yml"},
		{"check", "config", "prometheus.yml"},
		{"test", "rules", "alerts_test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	// Mutant: every expression replaced by one that is never true.
	rules, err := os.ReadFile(filepath.Join(dir, "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join(dir, "alerts_test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	expr := regexp.MustCompile(`(?m)^( +expr: ).*(\n {10,}\S.*)*`)
	n := len(expr.FindAllIndex(rules, -1))
	if n < 9 {
		t.Fatalf("alerts.yml: %d expr: lines; want one per alert", n)
	}
	tmp := t.TempDir()
	os.WriteFile(filepath.Join(tmp, "alerts.yml"), expr.ReplaceAll(rules, []byte("${1}vector(0) > 1")), 0o644)
	os.WriteFile(filepath.Join(tmp, "alerts_test.yml"), tests, 0o644)
	cmd := exec.Command(promtool, "test", "rules", "alerts_test.yml")
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("promtool test rules passes with rules that never fire:\n%s", out)
	}
	// Every alert must have been expected to fire somewhere.
	for _, m := range regexp.MustCompile(`(?m)^\s+- alert: (\w+)`).FindAllSubmatch(rules, -1) {
		if !strings.Contains(string(out), "alertname: "+string(m[1])+",") {
			t.Errorf("alert %s: no unit test expects it to fire", m[1])
		}
	}
}

// promQuery runs an instant query against a Prometheus server's HTTP API.
func promQuery(base, q string) (result []struct {
	Metric map[string]string
	Value  [2]any
}, err error) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Status, Error string
		Data          struct {
			ResultType string
			Result     json.RawMessage
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("query %q: %s: %v", q, resp.Status, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %q: %s: %s", q, r.Status, r.Error)
	}
	if r.Data.ResultType == "vector" {
		err = json.Unmarshal(r.Data.Result, &result)
	}
	return result, err
}

// eventually polls f every 200 ms until it returns nil or 60 s pass.
func eventually(t testing.TB, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %v after 60 s", what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestPrometheusScrapesServer: a real Prometheus server scrapes a running
// wsreactor -procs 2 through the shipped job and rules (prometheus.yml with
// the test's target and 1 s intervals), and its HTTP API gives back the
// connections the test opened, both workers' series, the rules loaded and
// evaluated without error, and an answer to every dashboard query.
func TestPrometheusScrapesServer(t *testing.T) {
	prom := needTool(t, "prometheus", "prometheus")
	bin := testkit.Binary(t)
	srv := startServer(t, bin, nil, "-procs", "2", "-addr", "127.0.0.1:0", "-admin-addr", freeAddr(t))

	cfg, err := os.ReadFile(deployPath(t, "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := strings.NewReplacer(`"127.0.0.1:9090"`, strconv.Quote(srv.Admin),
		"scrape_interval: 15s", "scrape_interval: 1s", "evaluation_interval: 15s", "evaluation_interval: 1s",
		"- alerts.yml", "- "+deployPath(t, "prometheus", "alerts.yml")).Replace(string(cfg))
	if !strings.Contains(c, srv.Admin) || !strings.Contains(c, "interval: 1s") {
		t.Fatalf("prometheus.yml no longer has the target and intervals this test replaces:\n%s", cfg)
	}
	os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(c), 0o644)
	web := freeAddr(t)
	cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+web, "--log.level=warn")
	log, _ := os.Create(filepath.Join(dir, "prometheus.log"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			t.Logf("prometheus log:\n%s", b)
		}
	})
	base := "http://" + web

	conns := echo(t, srv.WS, 5)
	eventually(t, "prometheus reads back the 5 connections from both workers", func() error {
		r, err := promQuery(base, `sum by (worker) (wsreactor_connections_open{job="wsreactor"})`)
		if err != nil {
			return err
		}
		total, workers := 0, map[string]bool{}
		for _, s := range r {
			v, _ := strconv.Atoi(s.Value[1].(string))
			total += v
			workers[s.Metric["worker"]] = true
		}
		if total != len(conns) || !workers["0"] || !workers["1"] {
			return fmt.Errorf("series %v: %d connections over workers %v; want %d over 0 and 1", r, total, workers, len(conns))
		}
		return nil
	})
	up, err := promQuery(base, `up{job="wsreactor"}`)
	if err != nil || len(up) != 1 || up[0].Value[1] != "1" || up[0].Metric["instance"] != srv.Admin {
		t.Errorf("up{job=\"wsreactor\"} = %v, %v; want 1 for %s", up, err, srv.Admin)
	}

	eventually(t, "the alert rules loaded and evaluated", func() error {
		resp, err := http.Get(base + "/api/v1/rules")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var r struct {
			Data struct {
				Groups []struct {
					Name  string
					Rules []struct {
						Name, Health, LastError string
						LastEvaluation          time.Time
					}
				}
			}
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			return err
		}
		if len(r.Data.Groups) != 1 || len(r.Data.Groups[0].Rules) < 9 {
			return fmt.Errorf("rule groups %+v; want the wsreactor group's rules", r.Data.Groups)
		}
		for _, rule := range r.Data.Groups[0].Rules {
			if rule.Health != "ok" || rule.LastEvaluation.Year() < 2000 {
				return fmt.Errorf("rule %s: health %q %s, last evaluated %v", rule.Name, rule.Health, rule.LastError, rule.LastEvaluation)
			}
		}
		return nil
	})
	// Nothing is wrong with this server: no alert fires (pending or
	// firing). Loop lag is left out: it measures how busy the machine is,
	// which the test does not control.
	if r, err := promQuery(base, `ALERTS{alertname!="WsreactorEventLoopLagHigh"}`); err != nil || len(r) != 0 {
		t.Errorf("ALERTS = %v, %v; want none for a healthy server", r, err)
	}

	// The queries of "What to watch" in deploy/prometheus/README.md
	// evaluate.
	readme, err := os.ReadFile(deployPath(t, "prometheus", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```promql\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatalf("deploy/prometheus/README.md has no promql block")
	}
	nq := 0
	for _, line := range strings.Split(string(block[1]), "\n") {
		if line = strings.TrimSpace(line); line == "" || line[0] == '#' {
			continue
		}
		nq++
		if _, err := promQuery(base, line); err != nil {
			t.Errorf("README query: %v", err)
		}
	}
	if nq < 10 {
		t.Errorf("README's promql block has %d queries; want what to watch", nq)
	}

	// Every dashboard query evaluates, with Grafana's variables as the
	// dashboard would set them, to at least one series (a rate needs two
	// scrapes: wait for them).
	exported := scrape(t, srv.Admin)
	vars := strings.NewReplacer("$__rate_interval", "10s", "$job", "wsreactor", "$instance", ".*")
	for _, q := range dashboardQueries(t) {
		expr := vars.Replace(q.Expr)
		mustHaveData := true
		for _, n := range promqlMetricNames(q.Expr) {
			mustHaveData = mustHaveData && exported[n] // wsreactor_proxy_refused_total: only with -proxy-protocol
		}
		eventually(t, q.Where+": "+expr, func() error {
			r, err := promQuery(base, expr)
			if err == nil && mustHaveData && len(r) == 0 {
				err = fmt.Errorf("no series")
			}
			return err
		})
	}
}
