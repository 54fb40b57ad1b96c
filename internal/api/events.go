package api

import (
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/vigil-sec/vigil/internal/store"
)

// RootEvent is a root event as GET /api/v1/events shows it: what root
// did in an account, from where, and whose AssumeRoot session it was.
type RootEvent struct {
	EventID          string    `json:"event_id"`
	Kind             string    `json:"kind"`
	AccountID        string    `json:"account_id"`
	Region           string    `json:"region"`
	Time             time.Time `json:"time"`
	EventSource      string    `json:"event_source"`
	EventName        string    `json:"event_name"`
	IdentityARN      string    `json:"identity_arn,omitempty"`
	SourceIP         string    `json:"source_ip,omitempty"`
	UserAgent        string    `json:"user_agent,omitempty"`
	AccessKeyID      string    `json:"access_key_id,omitempty"`
	MFA              string    `json:"mfa,omitempty"`
	ErrorCode        string    `json:"error_code,omitempty"`
	ErrorMessage     string    `json:"error_message,omitempty"`
	NewAccessKeyID   string    `json:"new_access_key_id,omitempty"`
	VigilSession     bool      `json:"vigil_session"`
	SessionPrincipal string    `json:"session_principal,omitempty"`
	Summary          string    `json:"summary,omitempty"`
	ReceivedAt       time.Time `json:"received_at"`
}

// ToRootEvent is e as the API shows it.
func ToRootEvent(e store.RootEvent) RootEvent {
	return RootEvent{EventID: e.EventID, Kind: e.Kind, AccountID: e.Account, Region: e.Region, Time: e.Time.UTC(),
		EventSource: e.Source, EventName: e.Name, IdentityARN: e.IdentityARN, SourceIP: e.SourceIP, UserAgent: e.UserAgent,
		AccessKeyID: e.AccessKeyID, MFA: e.MFA, ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage, NewAccessKeyID: e.NewAccessKeyID,
		VigilSession: e.Own, SessionPrincipal: e.SessionPrincipal, Summary: e.Summary, ReceivedAt: e.ReceivedAt.UTC()}
}

var apiAccountID = regexp.MustCompile(`^[0-9]{12}$`)

// events lists root events, newest first, a page at a time: ?account=
// (repeatable), ?since= and ?until= (RFC 3339), ?limit= (1 to 1,000,
// default 100), ?cursor= (the next_cursor of the page before).
func (a *api) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.RootEventFilter{Limit: 100}
	for _, acct := range q["account"] {
		if !apiAccountID.MatchString(acct) {
			writeError(w, http.StatusBadRequest, "invalid_account", "account: want a 12-digit account ID")
			return
		}
		f.Accounts = append(f.Accounts, acct)
	}
	for name, into := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				writeError(w, http.StatusBadRequest, "invalid_time", name+": want an RFC 3339 time (2026-11-01T00:00:00Z)")
				return
			}
			*into = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "invalid_limit", "limit: want a number from 1 to 1000")
			return
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		var k store.RootEventKey
		if err := decodeToken(v, &k); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_cursor", err.Error())
			return
		}
		f.Before = &k
	}
	// One more than the page, to tell whether another follows.
	limit := f.Limit
	f.Limit++
	es, err := a.cfg.Store.RootEvents(r.Context(), f)
	if err != nil {
		a.internal(w, err)
		return
	}
	out := struct {
		Events     []RootEvent `json:"events"`
		NextCursor string      `json:"next_cursor,omitempty"`
	}{Events: make([]RootEvent, 0, len(es))}
	if len(es) > limit {
		es = es[:limit]
		last := es[len(es)-1]
		out.NextCursor = encodeToken(store.RootEventKey{Time: last.Time, ID: last.ID})
	}
	for _, e := range es {
		out.Events = append(out.Events, ToRootEvent(e))
	}
	writeJSON(w, http.StatusOK, out)
}
