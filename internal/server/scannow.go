package server

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/riverqueue/river"
	"github.com/robfig/cron/v3"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/store"
)

// The server is the API's Scheduler: it lists its schedules and starts
// one's scan now (POST /api/v1/scans).
var _ api.Scheduler = (*Server)(nil)

// Schedules lists the schedules with their next tick and latest scan.
func (s *Server) Schedules(ctx context.Context) ([]api.ScheduleInfo, error) {
	scans, err := s.st.Scans(ctx, 200)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Clock.Now()
	out := make([]api.ScheduleInfo, 0, len(s.byName))
	for _, sc := range s.cfg.Schedules {
		info := api.ScheduleInfo{Name: sc.Name, Target: describe(&sc), When: when(&sc)}
		var last *store.Scan
		for i := range scans {
			if scans[i].Schedule == sc.Name {
				last = &scans[i]
				break
			}
		}
		if last != nil {
			l := api.ToScan(*last)
			if last.Outcome == store.Running {
				// Any replica knows a tick's number once it is listed; the
				// tick's own knows it earlier.
				l.Expected = last.Expected
				if l.Expected == 0 {
					l.Expected = s.Expected(last.ID)
				}
			}
			info.Last = &l
		}
		if next := nextTick(&sc, now, last); !next.IsZero() {
			info.Next = &next
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func when(sc *Schedule) string {
	switch {
	case sc.When != nil && sc.Cron == "" && sc.Every == 0:
		return "as configured"
	case sc.Cron != "":
		return "cron " + sc.Cron
	}
	return "every " + sc.Every.String()
}

// nextTick is when the schedule next runs after now: the cron
// expression's or the configured schedule's next time, or for an
// interval the last tick plus the interval (River counts intervals from
// when it last ran the job, so this is close, not exact).
func nextTick(sc *Schedule, now time.Time, last *store.Scan) time.Time {
	switch {
	case sc.When != nil:
		return sc.When.Next(now)
	case sc.Cron != "":
		cs, err := cron.ParseStandard(sc.Cron)
		if err != nil {
			return time.Time{}
		}
		return cs.Next(now)
	case sc.Every > 0 && last != nil:
		next := last.StartedAt.Add(sc.Every)
		if next.Before(now) {
			return now
		}
		return next
	}
	return time.Time{}
}

// ScanNow starts a tick of the schedule now. The scan is recorded here,
// so that its ID can be returned at once, and the tick job picks it up
// by its tick (StartScan returns the scan a tick has already).
func (s *Server) ScanNow(ctx context.Context, name string) (store.Scan, error) {
	sch, ok := s.byName[name]
	if !ok {
		return store.Scan{}, fmt.Errorf("schedule %q: %w", name, api.ErrNoSchedule)
	}
	if busy, err := s.running(ctx, name); err != nil {
		return store.Scan{}, err
	} else if busy {
		return store.Scan{}, fmt.Errorf("schedule %q: %w", name, api.ErrScanRunning)
	}
	now := s.cfg.Clock.Now().UTC().Truncate(time.Millisecond)
	sc, err := s.st.StartScan(ctx, store.Scan{Schedule: name, Tick: now, StartedAt: now, Target: describe(sch)})
	if err != nil {
		return store.Scan{}, err
	}
	if _, err := s.client.Insert(ctx, tickArgs{Schedule: name, Tick: &now}, &river.InsertOpts{MaxAttempts: 3}); err != nil {
		// The scan would stay running for good with no job behind it.
		ferr := s.st.FinishScan(ctx, sc.ID, store.End{Outcome: store.Failed, Message: "could not queue the scan: " + err.Error(), At: s.cfg.Clock.Now()})
		if ferr != nil {
			s.cfg.Logger.Error("a scan started from the API could not be queued nor closed", "scan", sc.ID, "error", ferr)
		}
		return store.Scan{}, fmt.Errorf("queue the scan of schedule %q: %w", name, err)
	}
	return sc, nil
}

// running reports whether a scan of the schedule is running.
func (s *Server) running(ctx context.Context, name string) (bool, error) {
	scans, err := s.st.Scans(ctx, 50)
	if err != nil {
		return false, err
	}
	for _, sc := range scans {
		if sc.Schedule == name {
			return sc.Outcome == store.Running, nil
		}
	}
	return false, nil
}

// Expected is how many accounts a running organisation scan listed, as
// far as this process knows (the replica that ran its tick).
func (s *Server) Expected(scanID int64) int {
	if v, ok := s.expected.Load(scanID); ok {
		return v.(int)
	}
	return 0
}

// skipStarted closes the scan of a tick started now that found an
// earlier scan still running (a race with the check in ScanNow), so that
// it does not stay running with no job behind it.
func (s *Server) skipStarted(ctx context.Context, args tickArgs, tick time.Time) error {
	if args.Tick == nil {
		return nil
	}
	sc, err := s.st.StartScan(ctx, store.Scan{Schedule: args.Schedule, Tick: tick, StartedAt: tick})
	if err != nil || sc.Outcome != store.Running {
		return err
	}
	return s.st.FinishScan(ctx, sc.ID, store.End{Outcome: store.Failed, Message: skippedMessage, At: s.cfg.Clock.Now()})
}

// skippedMessage is the message of a tick's scan skipped because the
// previous one was still running.
const skippedMessage = "skipped: the previous scan of this schedule was still running"
