package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-sec/vigil/internal/lifecycle"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/store"
)

// metrics are vigil serve's Prometheus metrics at /metrics. What happens
// in this process (scans ending, AWS calls, deliveries) is counted as it
// happens; what is in the store or the queue (open findings, failing
// deliveries, queued jobs) is read when Prometheus scrapes, so that every
// replica reports the same truth and a restart loses nothing.
type metrics struct {
	reg          *prometheus.Registry
	scans        *prometheus.CounterVec
	scanDuration *prometheus.HistogramVec
	accountPhase *prometheus.HistogramVec
	awsCalls     *prometheus.CounterVec
	deliveries   *prometheus.CounterVec
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_scans_total", Help: "Scans ended by this process, by schedule and outcome (complete, incomplete, failed).",
		}, []string{"schedule", "outcome"}),
		scanDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vigil_scan_duration_seconds", Help: "How long scans took, from start to the last account recorded.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200},
		}, []string{"schedule"}),
		// Where an organisation tick's account jobs spend their time:
		// reaching and reading the account and judging it (scan), or
		// writing it to the store (record). A tick slower than its
		// accounts' round trips says which to look at.
		accountPhase: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vigil_account_job_phase_seconds", Help: "Account jobs of organisation schedules by phase: scan (reaching, reading and judging the account) and record (writing it to the store).",
			Buckets: []float64{.005, .01, .025, .05, .1, .15, .2, .25, .3, .4, .5, .75, 1, 2, 5, 10, 30, 60, 300},
		}, []string{"phase"}),
		awsCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_aws_calls_total", Help: "AWS API calls by service, operation and error code (\"\" for success, \"network\" when AWS gave no answer), once per operation whatever its retries.",
		}, []string{"service", "operation", "error_code"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_alert_deliveries_total", Help: "Alert delivery attempts by channel and result (delivered, failed).",
		}, []string{"channel", "result"}),
	}
	m.reg.MustRegister(m.scans, m.scanDuration, m.accountPhase, m.awsCalls, m.deliveries, &storeCollector{s: s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observeAWS is awsenv.ObserveInto's callback.
func (m *metrics) observeAWS(service, operation, code string) {
	m.awsCalls.WithLabelValues(strings.ToLower(service), operation, code).Inc()
}

func (m *metrics) delivery(channel string, err error) {
	result := "delivered"
	if err != nil {
		result = "failed"
	}
	m.deliveries.WithLabelValues(channel, result).Inc()
}

// scanEnded counts a scan that this process saw end.
func (s *Server) scanEnded(ctx context.Context, scanID int64) {
	sc, err := s.st.Scan(ctx, scanID)
	if err != nil || sc.Outcome == store.Running {
		return
	}
	name := sc.Schedule
	if name == "" {
		name = "one-shot"
	}
	s.metrics.scans.WithLabelValues(name, string(sc.Outcome)).Inc()
	if sc.FinishedAt != nil {
		s.metrics.scanDuration.WithLabelValues(name).Observe(sc.FinishedAt.Sub(sc.StartedAt).Seconds())
	}
}

// handler serves the metrics.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// storeCollector reads the gauges at scrape time.
type storeCollector struct{ s *Server }

var (
	openDesc = prometheus.NewDesc("vigil_open_findings", "Open findings by severity; suppressed ones counted apart (suppressed=\"true\").",
		[]string{"severity", "suppressed"}, nil)
	failingDesc = prometheus.NewDesc("vigil_alert_deliveries_failing", "Alert deliveries tried and not yet delivered (retried with backoff).",
		nil, nil)
	runningDesc = prometheus.NewDesc("vigil_scans_running", "Scans started and not yet ended.", nil, nil)
	queueDesc   = prometheus.NewDesc("vigil_job_queue_jobs", "Jobs in the queue by state (available: waiting for a worker; running; retryable; scheduled). Counted up to 10,000 per state.",
		[]string{"state"}, nil)
	scrapeErrDesc = prometheus.NewDesc("vigil_metrics_read_errors", "Gauges this scrape could not read (the store or the queue did not answer).", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{openDesc, failingDesc, runningDesc, queueDesc, scrapeErrDesc} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := 0
	if counts, err := s.st.Counts(ctx, store.Filter{States: []lifecycle.State{lifecycle.Open}, Now: s.cfg.Clock.Now()}); err != nil {
		errs++
		s.cfg.Logger.Warn("metrics: cannot count open findings", "error", err)
	} else {
		type k struct {
			sev int
			sup bool
		}
		n := map[k]int{}
		for _, c := range counts {
			n[k{c.Severity, c.Suppressed}] += c.N
		}
		// Every severity is reported, zeros too, so that a query over
		// the series never sees one vanish.
		for _, sev := range rule.Severities {
			for _, sup := range []bool{false, true} {
				ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(n[k{int(sev), sup}]), sev.String(), map[bool]string{false: "false", true: "true"}[sup])
			}
		}
	}
	if ds, err := s.st.Deliveries(ctx, true, 10000); err != nil {
		errs++
	} else {
		ch <- prometheus.MustNewConstMetric(failingDesc, prometheus.GaugeValue, float64(len(ds)))
	}
	if scans, err := s.st.Scans(ctx, 200); err != nil {
		errs++
	} else {
		running := 0
		for _, sc := range scans {
			if sc.Outcome == store.Running {
				running++
			}
		}
		ch <- prometheus.MustNewConstMetric(runningDesc, prometheus.GaugeValue, float64(running))
	}
	if s.client != nil {
		for _, st := range []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled} {
			res, err := s.client.JobList(ctx, river.NewJobListParams().States(st).First(10000))
			if err != nil {
				errs++
				continue
			}
			ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(len(res.Jobs)), string(st))
		}
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, float64(errs))
}
