package admin

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// counterRegistry is a registry with one counter at v.
func counterRegistry(v float64) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "test_messages_total", Help: "Messages."}, []string{"type"})
	reg.MustRegister(c)
	c.WithLabelValues("text").Add(v)
	return reg
}

func listen(t *testing.T, addr string, g prometheus.Gatherer) *Server {
	t.Helper()
	s, err := Listen(addr, g)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// flatten turns families into "name{labels} value" lines, sorted.
func flatten(fams []*dto.MetricFamily) []string {
	var out []string
	for _, fam := range fams {
		for _, m := range fam.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			out = append(out, fam.GetName()+"{"+strings.Join(ls, ",")+"} "+strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	slices.Sort(out)
	return out
}

func TestFederation(t *testing.T) {
	w0 := listen(t, "unix:"+filepath.Join(t.TempDir(), "w0.sock"), counterRegistry(3))
	w1 := listen(t, "127.0.0.1:0", counterRegistry(4))
	if !strings.HasPrefix(w0.AddrString(), "unix:/") || strings.HasPrefix(w1.AddrString(), "unix:") {
		t.Fatalf("AddrString = %q, %q; want unix:PATH and host:port", w0.AddrString(), w1.AddrString())
	}
	local := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_parent_things", Help: "Parent's own."})
	local.MustRegister(g)
	g.Set(7)
	f := &Federation{
		LabelName: "worker",
		Local:     local,
		Targets: func() []Target {
			return []Target{{"0", w0.AddrString()}, {"1", w1.AddrString()}, {"2", "unix:" + filepath.Join(t.TempDir(), "gone.sock")}}
		},
	}
	fams, err := f.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := flatten(fams)
	want := []string{
		"test_messages_total{type=text,worker=0} 3",
		"test_messages_total{type=text,worker=1} 4",
		"test_parent_things{worker=parent} 7",
		"wsreactor_admin_target_up{worker=0} 1",
		"wsreactor_admin_target_up{worker=1} 1",
		"wsreactor_admin_target_up{worker=2} 0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("federated:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Served through the admin server itself, the merged exposition is valid text.
	code, body := get(t, (&Server{}).Handler(f), "/metrics")
	if code != 200 || !strings.Contains(body, `test_messages_total{type="text",worker="1"} 4`) {
		t.Errorf("GET /metrics = %d:\n%s", code, body)
	}
}
