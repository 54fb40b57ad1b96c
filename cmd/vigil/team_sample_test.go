package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// activitySampler samples, every 20 ms through a tick, what the
// benchmark database's backends are doing (pg_stat_activity): how many
// run a statement, and which wait and on what. A lock wait that holds
// the account jobs up shows here as backends waiting on a Lock with the
// statement that waits; a machine short of CPU shows as none.
type activitySampler struct {
	mu      sync.Mutex
	on      bool // counting: the tick has started
	samples int
	active  int
	by      map[string]int // wait and statement kind → backend-samples
	stop    chan struct{}
	done    chan struct{}
}

const samplerName = "vigil-bench-sampler"

func sampleActivity(t *testing.T, dbURL, db string) *activitySampler {
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	// Named, so that the backends' CPU leaves the sampler's out.
	cfg.RuntimeParams["application_name"] = samplerName
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := &activitySampler{by: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		defer c.Close(ctx)
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-a.stop:
				return
			case <-tk.C:
			}
			rows, err := c.Query(ctx, `SELECT COALESCE(a.wait_event_type, ''), COALESCE(a.wait_event, ''), a.query,
					COALESCE((SELECT l.locktype || COALESCE(':' || l.relation::regclass::text, '') FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted LIMIT 1), '')
				FROM pg_stat_activity a WHERE a.datname = $1 AND a.state = 'active' AND a.pid <> pg_backend_pid()`, db)
			if err != nil {
				return
			}
			n := 0
			keys := map[string]int{}
			for rows.Next() {
				var typ, ev, q, lock string
				if rows.Scan(&typ, &ev, &q, &lock) != nil {
					continue
				}
				n++
				w := "running"
				if typ != "" {
					w = typ + ":" + ev
					if lock != "" {
						w += " (" + lock + ")"
					}
				}
				keys[w+" — "+statementKind(q)]++
			}
			rows.Close()
			a.mu.Lock()
			if !a.on {
				a.mu.Unlock()
				continue
			}
			a.samples++
			a.active += n
			for k, v := range keys {
				a.by[k] += v
			}
			a.mu.Unlock()
		}
	}()
	return a
}

// statementKind names a statement by what it does, short enough for a
// table: the tables it writes or reads first.
func statementKind(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	switch {
	case strings.HasPrefix(q, "WITH f AS (INSERT INTO findings"), strings.HasPrefix(q, "WITH c AS"), strings.HasPrefix(q, "WITH t AS"), strings.HasPrefix(q, "WITH r"):
		return "recording's writes (… UPDATE scans)"
	case strings.Contains(q, "pg_advisory_xact_lock"):
		return "advisory lock"
	case strings.HasPrefix(q, "COMMIT"):
		return "COMMIT"
	}
	if len(q) > 60 {
		q = q[:60] + "…"
	}
	return q
}

// begin starts counting, at the tick's start.
func (a *activitySampler) begin() {
	a.mu.Lock()
	a.on = true
	a.mu.Unlock()
}

// report stops the sampler and logs the mean number of backends in each
// state over the tick.
func (a *activitySampler) report(t *testing.T, tick time.Duration, accounts int) {
	close(a.stop)
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.samples == 0 {
		return
	}
	keys := make([]string, 0, len(a.by))
	for k := range a.by {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return a.by[keys[i]] > a.by[keys[j]] })
	// A backend's mean number in a state times the tick is the time
	// spent in it, shared out per account.
	perAccount := func(n int) float64 {
		return float64(n) / float64(a.samples) * float64(tick.Microseconds()) / 1000 / float64(accounts)
	}
	var parts []string
	for _, k := range keys[:min(len(keys), 8)] {
		parts = append(parts, fmt.Sprintf("%s %.2f ms", k, perAccount(a.by[k])))
	}
	t.Logf("  PostgreSQL backends in a statement, sampled %d times over the tick: %.2f on average, %.1f ms per account; by wait and statement, per account: %s",
		a.samples, float64(a.active)/float64(a.samples), perAccount(a.active), strings.Join(parts, "; "))
}

// phaseQuantiles reads each replica's vigil_account_job_phase_seconds
// histogram (/metrics, with a viewer token) and logs each phase's
// median and p90 over all replicas, interpolated within the buckets: a
// tail of slow jobs shows in the phase it comes from. A build without
// the metric logs nothing.
func phaseQuantiles(t *testing.T, rs []*served, token string) {
	const name = "vigil_account_job_phase_seconds_bucket{"
	type bucket struct {
		le float64
		n  float64
	}
	byPhase := map[string]map[float64]float64{}
	for _, r := range rs {
		req, _ := http.NewRequest("GET", "http://"+r.addr+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Logf("  metrics of %s: %v", r.addr, err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(body), "\n") {
			if !strings.HasPrefix(line, name) {
				continue
			}
			var phase, le string
			for _, kv := range strings.Split(line[len(name):strings.IndexByte(line, '}')], ",") {
				k, v, _ := strings.Cut(kv, "=")
				v = strings.Trim(v, `"`)
				switch k {
				case "phase":
					phase = v
				case "le":
					le = v
				}
			}
			f := strings.Fields(line)
			n, err1 := strconv.ParseFloat(f[len(f)-1], 64)
			bound, err2 := strconv.ParseFloat(le, 64)
			if err1 != nil || (err2 != nil && le != "+Inf") {
				continue
			}
			if le == "+Inf" {
				bound = math.Inf(1)
			}
			if byPhase[phase] == nil {
				byPhase[phase] = map[float64]float64{}
			}
			byPhase[phase][bound] += n
		}
	}
	var parts []string
	for _, phase := range []string{"scan", "record"} {
		var bs []bucket
		for le, n := range byPhase[phase] {
			bs = append(bs, bucket{le, n})
		}
		if len(bs) == 0 {
			continue
		}
		sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
		total := bs[len(bs)-1].n
		q := func(p float64) float64 {
			want, lo, below := p*total, 0.0, 0.0
			for _, b := range bs {
				if b.n >= want {
					if math.IsInf(b.le, 1) {
						return lo
					}
					return lo + (b.le-lo)*(want-below)/math.Max(b.n-below, 1)
				}
				lo, below = b.le, b.n
			}
			return lo
		}
		parts = append(parts, fmt.Sprintf("%s %.0f ms (p90 %.0f ms)", phase, 1000*q(0.5), 1000*q(0.9)))
	}
	if len(parts) > 0 {
		t.Logf("  account jobs' phases, median (p90) from the replicas' histograms: %s", strings.Join(parts, ", "))
	}
}
