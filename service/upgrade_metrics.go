package service

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// upgradeMetrics counts binary upgrades (upgrade.go). The old process
// counts the upgrades it starts and those that fail (it keeps running);
// the new process counts the one that made it, with what the old process
// reported in its last message (it is the one left to be scraped).
type upgradeMetrics struct {
	started, completed, failed atomic.Int64
	handedOver                 atomic.Int64
	pauseNanos                 atomic.Int64 // longest pause of the last upgrade
}

var (
	descUpgrades = prometheus.NewDesc("wsreactor_upgrades_total",
		"Binary upgrades (SIGUSR2) by result: started and failed are counted by the old process (which keeps serving after a failure), completed by the new one.", []string{"result"}, nil)
	descHandedOver = prometheus.NewDesc("wsreactor_upgrade_connections_handed_over_total",
		"Connections handed over to a new process by binary upgrades, as the old process acknowledged them.", nil, nil)
	descPause = prometheus.NewDesc("wsreactor_upgrade_pause_seconds",
		"Longest time a connection was off every event loop during the last upgrade (from detach in the old process to the new process's acknowledgement of its batch).", nil, nil)
)

func (m *upgradeMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- descUpgrades
	ch <- descHandedOver
	ch <- descPause
}

func (m *upgradeMetrics) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descUpgrades, prometheus.CounterValue, float64(m.started.Load()), "started")
	ch <- prometheus.MustNewConstMetric(descUpgrades, prometheus.CounterValue, float64(m.completed.Load()), "completed")
	ch <- prometheus.MustNewConstMetric(descUpgrades, prometheus.CounterValue, float64(m.failed.Load()), "failed")
	ch <- prometheus.MustNewConstMetric(descHandedOver, prometheus.CounterValue, float64(m.handedOver.Load()))
	ch <- prometheus.MustNewConstMetric(descPause, prometheus.GaugeValue, time.Duration(m.pauseNanos.Load()).Seconds())
}
