package service

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsreactor/wsreactor/protocol"
)

// budgetCollector exports the memory budget (protocol.Budget): its limit,
// what the loops last published as held, and its rare-event counters, all
// read with atomic loads when scraped. It exports nothing without a budget.
type budgetCollector struct{ b *protocol.Budget }

var (
	descBudget = prometheus.NewDesc("wsreactor_memory_budget_bytes",
		"The memory budget (-memory-budget): bytes of output, echo slack and partial input that clients may make the server hold.", nil, nil)
	descHeld = prometheus.NewDesc("wsreactor_memory_held_bytes",
		"Bytes clients make the server hold now, over all connections, as the event loops last published it (within a quantum per loop; drained output is seen within 10 ms once near the budget).", nil, nil)
	descHeldPeak = prometheus.NewDesc("wsreactor_memory_held_peak_bytes",
		"The most bytes clients made the server hold at a recount of the holders, since the start.", nil, nil)
	descSlackRefused = prometheus.NewDesc("wsreactor_memory_budget_slack_refused",
		"1 while echo slack is refused (from 7/8 of the budget until back under 3/4), else 0.", nil, nil)
	descBudgetCloses = prometheus.NewDesc("wsreactor_memory_budget_closes_total",
		"Connections closed for the memory budget, by measure: slack_refused (output past -write-buffer-limit still growing while slack is refused: 1008), largest (an open connection among the largest holders past the budget: 1008), dropped (a closing or handshaking connection among the largest holders: dropped at once).", []string{"measure"}, nil)
)

func (c budgetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBudget, descHeld, descHeldPeak, descSlackRefused, descBudgetCloses} {
		ch <- d
	}
}

func (c budgetCollector) Collect(ch chan<- prometheus.Metric) {
	if c.b == nil {
		return
	}
	st := c.b.Stats()
	refused := 0.0
	if st.SlackRefused {
		refused = 1
	}
	ch <- prometheus.MustNewConstMetric(descBudget, prometheus.GaugeValue, float64(st.Limit))
	ch <- prometheus.MustNewConstMetric(descHeld, prometheus.GaugeValue, float64(st.Held))
	ch <- prometheus.MustNewConstMetric(descHeldPeak, prometheus.GaugeValue, float64(st.Peak))
	ch <- prometheus.MustNewConstMetric(descSlackRefused, prometheus.GaugeValue, refused)
	for _, m := range []struct {
		label string
		n     int64
	}{{"slack_refused", st.SlackRefusals}, {"largest", st.BudgetCloses}, {"dropped", st.BudgetAborts}} {
		ch <- prometheus.MustNewConstMetric(descBudgetCloses, prometheus.CounterValue, float64(m.n), m.label)
	}
}
