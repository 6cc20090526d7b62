package admin

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Target is one admin server whose /metrics a Federation scrapes: its
// address in Listen's form and the value of the label its series get.
type Target struct {
	Label string
	Addr  string
}

// Federation is a prometheus.Gatherer that serves, as one exposition, the
// /metrics of several admin servers (the workers of one server, each a
// process of its own) and a local Gatherer's series: each series gets the
// label LabelName, set to its Target's Label ("parent" for the local ones),
// so that the series of different processes stay apart and add up in a
// query (sum without (worker) (...)). An unreachable target (a worker being
// restarted) is left out of that scrape and shows as
// wsreactor_admin_target_up{worker="i"} 0.
type Federation struct {
	LabelName string              // e.g. "worker"
	Local     prometheus.Gatherer // this process's own series, or nil
	Targets   func() []Target     // called at each scrape
	Timeout   time.Duration       // per target; 0 means 5 s

	once   sync.Once
	client *http.Client
}

// Gather scrapes every target, concurrently, and merges the results.
func (f *Federation) Gather() ([]*dto.MetricFamily, error) {
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	targets := f.Targets()
	results := make([]map[string]*dto.MetricFamily, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = f.scrape(t, timeout)
		}()
	}
	wg.Wait()

	merged := make(map[string]*dto.MetricFamily)
	var errs []error
	add := func(label string, fams map[string]*dto.MetricFamily) {
		for name, fam := range fams {
			for _, m := range fam.Metric {
				m.Label = append(m.Label, &dto.LabelPair{Name: &f.LabelName, Value: &label})
				slices.SortFunc(m.Label, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
			}
			have, ok := merged[name]
			switch {
			case !ok:
				merged[name] = fam
			case have.GetType() != fam.GetType():
				errs = append(errs, fmt.Errorf("admin: %s is a %v at %s but a %v elsewhere", name, fam.GetType(), label, have.GetType()))
			default:
				have.Metric = append(have.Metric, fam.Metric...)
			}
		}
	}
	if f.Local != nil {
		local, err := f.Local.Gather()
		if err != nil {
			errs = append(errs, err)
		}
		fams := make(map[string]*dto.MetricFamily, len(local))
		for _, fam := range local {
			fams[fam.GetName()] = fam
		}
		add("parent", fams)
	}
	upName, upHelp, gauge := "wsreactor_admin_target_up", "Whether the last scrape of a "+f.LabelName+"'s admin server succeeded (1) or not (0).", dto.MetricType_GAUGE
	up := &dto.MetricFamily{Name: &upName, Help: &upHelp, Type: &gauge}
	for i, t := range targets {
		v := 0.0
		if results[i] != nil {
			v = 1
			add(t.Label, results[i])
		}
		label := t.Label
		up.Metric = append(up.Metric, &dto.Metric{
			Label: []*dto.LabelPair{{Name: &f.LabelName, Value: &label}},
			Gauge: &dto.Gauge{Value: &v},
		})
	}
	merged[upName] = up

	out := make([]*dto.MetricFamily, 0, len(merged))
	for _, fam := range merged {
		out = append(out, fam)
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	if len(errs) > 0 {
		return out, prometheus.MultiError(errs)
	}
	return out, nil
}

// scrape fetches and parses one target's /metrics.
func (f *Federation) scrape(t Target, timeout time.Duration) (map[string]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	network, address := splitAddr(t.Addr)
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, address)
		},
		DisableKeepAlives: true,
	}}
	req, err := http.NewRequestWithContext(ctx, "GET", "http://admin/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("admin: %s/metrics: %s", t.Addr, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}
