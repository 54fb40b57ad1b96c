package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/store"
)

// Scheduler is what the API needs of the running service to show its
// schedules and start one's scan now. vigil serve's server implements
// it; it is nil where no service runs (then POST /api/v1/scans answers
// 503 and /api/v1/schedules is empty).
type Scheduler interface {
	// Schedules lists the configured schedules, sorted by name.
	Schedules(ctx context.Context) ([]ScheduleInfo, error)
	// ScanNow starts a scan of the named schedule now, through the job
	// queue, and returns the scan as recorded (running). It returns an
	// error wrapping ErrNoSchedule or ErrScanRunning when it cannot.
	ScanNow(ctx context.Context, schedule string) (store.Scan, error)
	// Expected is how many accounts a running scan has to record, when
	// the service knows (an organisation scan once its accounts are
	// listed); 0 otherwise.
	Expected(scanID int64) int
}

// ScheduleInfo is a schedule as the API shows it.
type ScheduleInfo struct {
	Name string `json:"name"`
	// Target says what the schedule scans, in words.
	Target string `json:"target"`
	// When is the interval ("every 1h0m0s") or the cron expression.
	When string `json:"when"`
	// Next is the next tick after now, when the schedule can tell.
	Next *time.Time `json:"next,omitempty"`
	// Last is the schedule's latest scan, if any.
	Last *Scan `json:"last,omitempty"`
}

// Errors a Scheduler returns, wrapped.
var (
	ErrNoSchedule  = errors.New("no such schedule")
	ErrScanRunning = errors.New("a scan of this schedule is running")
)

func (a *api) schedules(w http.ResponseWriter, r *http.Request) {
	out := []ScheduleInfo{}
	if a.cfg.Scheduler != nil {
		ss, err := a.cfg.Scheduler.Schedules(r.Context())
		if err != nil {
			a.internal(w, err)
			return
		}
		out = append(out, ss...)
	}
	writeJSON(w, http.StatusOK, map[string]any{"schedules": out})
}

// startScan starts a schedule's scan now: 202 with the scan, whose
// progress GET /api/v1/scans/{id} shows.
func (a *api) startScan(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Schedule string `json:"schedule"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", "body: "+err.Error())
		return
	}
	in.Schedule = strings.TrimSpace(in.Schedule)
	if in.Schedule == "" {
		writeError(w, http.StatusUnprocessableEntity, "invalid_scan", "schedule is required: the name of a configured schedule (GET /api/v1/schedules lists them)")
		return
	}
	if a.cfg.Scheduler == nil {
		writeError(w, http.StatusServiceUnavailable, "no_scheduler", "scans start only under vigil serve")
		return
	}
	sc, err := a.cfg.Scheduler.ScanNow(r.Context(), in.Schedule)
	switch {
	case errors.Is(err, ErrNoSchedule):
		writeError(w, http.StatusNotFound, "not_found", "no schedule "+strconv.Quote(in.Schedule))
		return
	case errors.Is(err, ErrScanRunning):
		writeError(w, http.StatusConflict, "scan_running", "a scan of schedule "+strconv.Quote(in.Schedule)+" is running already; wait for it to finish")
		return
	case err != nil:
		a.internal(w, err)
		return
	}
	if t, ok := r.Context().Value(ctxKey{}).(store.Token); ok {
		a.cfg.Logger.Info("scan started from the API", "scan", sc.ID, "schedule", sc.Schedule, "by_token", t.Name)
	}
	w.Header().Set("Location", "/api/v1/scans/"+strconv.FormatInt(sc.ID, 10))
	writeJSON(w, http.StatusAccepted, map[string]any{"scan": a.toScan(sc)})
}

func (a *api) scan(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "invalid_id", "scan ID: want a positive number")
		return
	}
	sc, err := a.cfg.Store.Scan(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no scan "+strconv.FormatInt(id, 10))
		return
	}
	if err != nil {
		a.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"scan": a.toScan(sc)})
}

// toScan is the API's view of a scan; a running one carries how many
// accounts it expects, when the service knows.
func (a *api) toScan(s store.Scan) Scan {
	out := ToScan(s)
	if s.Outcome == store.Running && a.cfg.Scheduler != nil {
		out.Expected = a.cfg.Scheduler.Expected(s.ID)
	}
	return out
}

// ToScan is the API's view of a stored scan (the dashboard shows the
// same fields).
func ToScan(s store.Scan) Scan {
	return Scan{ID: s.ID, Schedule: s.Schedule, Target: s.Target, StartedAt: s.StartedAt, FinishedAt: s.FinishedAt,
		Outcome: s.Outcome, Message: s.Message, Accounts: s.Accounts, Results: s.Results, Calls: s.Calls}
}
