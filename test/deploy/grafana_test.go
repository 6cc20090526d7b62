package deploy_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// dashboardQuery is one PromQL expression of the dashboard and where.
type dashboardQuery struct {
	Where, Expr string
}

// dashboardQueries returns every PromQL expression of the Grafana
// dashboard: the panels' targets (rows' nested panels too) and the
// label_values() metric of each query variable.
func dashboardQueries(t testing.TB) []dashboardQuery {
	t.Helper()
	b, err := os.ReadFile(deployPath(t, "grafana", "wsreactor.json"))
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string
		Targets []struct{ Expr string }
		Panels  []json.RawMessage
	}
	var d struct {
		Title      string
		UID        string
		Panels     []json.RawMessage
		Templating struct {
			List []struct {
				Name, Type string
				Query      json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("wsreactor.json: %v", err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("dashboard without title or uid")
	}
	var out []dashboardQuery
	var walk func([]json.RawMessage)
	walk = func(raw []json.RawMessage) {
		for _, r := range raw {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatalf("panel: %v", err)
			}
			for _, tg := range p.Targets {
				out = append(out, dashboardQuery{"panel " + p.Title, tg.Expr})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	labelValues := regexp.MustCompile(`label_values\((.*),\s*\w+\)$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct{ Query string }
		if json.Unmarshal(v.Query, &q) != nil {
			json.Unmarshal(v.Query, &q.Query)
		}
		m := labelValues.FindStringSubmatch(q.Query)
		if m == nil {
			t.Fatalf("variable %s: query %q is not label_values(selector, label)", v.Name, q.Query)
		}
		out = append(out, dashboardQuery{"variable " + v.Name, m[1]})
	}
	return out
}

// promqlKeywords are the words that are no metric: binary operators,
// modifiers, and the aggregations (whose "(" may come after a "by" list).
var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "inf": true, "nan": true,
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
}

// promqlGrouping are the keywords followed by a list of label names.
var promqlGrouping = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// promqlMetricNames returns the metric names an expression selects: the
// identifiers that are not functions, aggregations, keywords or label
// names (label matchers in {}, ranges in [], strings, numbers and Grafana
// $variables skipped).
func promqlMetricNames(expr string) []string {
	var names []string
	isIdent := func(c byte, first bool) bool {
		return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
	}
	skipTo := func(i int, open, close byte) int { // i at open; returns index after its close
		depth := 0
		for ; i < len(expr); i++ {
			switch c := expr[i]; {
			case c == '"' || c == '\'' || c == '`':
				i = skipString(expr, i) - 1
			case c == open:
				depth++
			case c == close:
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipString(expr, i)
		case c == '{':
			i = skipTo(i, '{', '}')
		case c == '[':
			i = skipTo(i, '[', ']')
		case c == '$':
			for i++; i < len(expr) && isIdent(expr[i], false); i++ {
			}
		case '0' <= c && c <= '9' || c == '.':
			for i++; i < len(expr) && (isIdent(expr[i], false) || expr[i] == '.'); i++ {
			}
		case isIdent(c, true):
			j := i + 1
			for j < len(expr) && isIdent(expr[j], false) {
				j++
			}
			word := expr[i:j]
			k := j
			for k < len(expr) && expr[k] == ' ' || k < len(expr) && expr[k] == '\n' {
				k++
			}
			switch {
			case promqlGrouping[word]:
				if k < len(expr) && expr[k] == '(' {
					j = skipTo(k, '(', ')')
				}
			case k < len(expr) && expr[k] == '(': // function or aggregation
			case promqlKeywords[strings.ToLower(word)]:
			default:
				names = append(names, word)
			}
			i = j
		default:
			i++
		}
	}
	return names
}

// skipString returns the index after the string literal starting at i.
func skipString(s string, i int) int {
	q := s[i]
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if q != '`' {
				i++
			}
		case q:
			return i + 1
		}
	}
	return i
}

// TestPromQLMetricNames: the extractor finds the metric names and nothing
// else, so the dashboard test below compares the right words.
func TestPromQLMetricNames(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`histogram_quantile(0.99, sum by (instance, le) (rate(a_bucket{job="$job", x=~"}{"}[$__rate_interval])))`, []string{"a_bucket"}},
		{`a{job="j"} / on (job, instance) group_left (worker) b > 0.85`, []string{"a", "b"}},
		{`sum without (instance) (c) offset 5m and d unless bool e`, []string{"c", "d", "e"}},
		{`rate(x_total[5m]) / rate(y_count[5m]) * 1e3`, []string{"x_total", "y_count"}},
		{`max by (le) (ns:rule_metric:rate5m)`, []string{"ns:rule_metric:rate5m"}},
		{`label_replace(m, "dst", "$1", "src", "(.*)")`, []string{"m"}},
		{`sum(rate(f{a="\"}"}[1m])) by (code)`, []string{"f"}},
		{`vector(1) + 2`, nil},
	} {
		if got := promqlMetricNames(c.expr); !slices.Equal(got, c.want) {
			t.Errorf("promqlMetricNames(%q) = %q; want %q", c.expr, got, c.want)
		}
	}
}

// TestGrafanaQueriesNameExportedMetrics: every metric a dashboard query
// selects is exported on /metrics of a running server: one with -procs 2
// that has served clients (the loop-lag histogram appears once a loop has
// had a connection), and one with -proxy-protocol (its refusal counter
// exists only then).
func TestGrafanaQueriesNameExportedMetrics(t *testing.T) {
	bin := testkit.Binary(t)
	srv := startServer(t, bin, nil, "-procs", "2", "-addr", "127.0.0.1:0", "-admin-addr", freeAddr(t))
	echo(t, srv.WS, 8)
	proxied := startServer(t, bin, nil, "-proxy-protocol", "-addr", "127.0.0.1:0", "-admin-addr", freeAddr(t))
	exported := scrape(t, srv.Admin)
	for n := range scrape(t, proxied.Admin) {
		exported[n] = true
	}
	if !exported["wsreactor_event_loop_lag_seconds_bucket"] {
		t.Fatalf("/metrics has no loop-lag histogram after clients were served; exported: %v", exported)
	}
	queries := dashboardQueries(t)
	if len(queries) < 20 {
		t.Fatalf("dashboard has %d queries; want its panels' (connections, handshakes, messages, lag, budget, sheds, GC)", len(queries))
	}
	used := map[string]bool{}
	for _, q := range queries {
		names := promqlMetricNames(q.Expr)
		if len(names) == 0 {
			t.Errorf("%s: %q selects no metric", q.Where, q.Expr)
		}
		for _, n := range names {
			used[n] = true
			if !exported[n] {
				t.Errorf("%s: %q selects %s, which /metrics does not export", q.Where, q.Expr, n)
			}
		}
	}
	// What the issue asks the dashboard to show.
	for _, n := range []string{"wsreactor_connections_open", "wsreactor_handshake_responses_total",
		"wsreactor_handshake_failures_total", "wsreactor_messages_received_total", "wsreactor_sent_bytes_total",
		"wsreactor_event_loop_lag_seconds_bucket", "wsreactor_memory_held_bytes", "wsreactor_memory_budget_bytes",
		"wsreactor_connections_shed_total", "go_gc_duration_seconds_count"} {
		if !used[n] {
			t.Errorf("no dashboard query shows %s", n)
		}
	}
}
