package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/rules"
	"github.com/vigil-sec/vigil/internal/store"
)

// AutoFix is what the API and the dashboard know of the service's
// automatic fixes: the serve config's policies, the baseline an admin's
// changes replace rule by rule, and whether apply mode may be chosen
// (vigil serve has an audit log to record every change it makes; without
// one an apply policy could never run).
type AutoFix struct {
	Baseline []store.AutoFixPolicy
	CanApply bool
}

// FixableRules are the rules whose findings the fix engine removes: the
// only ones an auto-fix policy may name.
var FixableRules = []string{"root-access-key", "root-signing-certificate"}

// DefaultMinIdleDays is a policy's idle guard when none is given, the
// same thirty days as vigil fix --min-idle and the serve config.
const DefaultMinIdleDays = 30

// maxMinIdleDays bounds the guard: ten years is already "never".
const maxMinIdleDays = 3650

// AutoFixPolicy is an auto-fix policy as the API shows it and takes it.
type AutoFixPolicy struct {
	Mode        string   `json:"mode"`
	MinIdleDays int      `json:"min_idle_days"`
	Accounts    []string `json:"accounts"`
	OUs         []string `json:"ous"`
}

// AutoFixChange is an admin's change to a rule's policy.
type AutoFixChange struct {
	ID   int64  `json:"id"`
	Rule string `json:"rule"`
	AutoFixPolicy
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// AutoFixRule is one fixable rule: the policies in force (none when it
// is off), the config's, and the change in force if an admin made one.
type AutoFixRule struct {
	Rule     string          `json:"rule"`
	Title    string          `json:"title"`
	Policies []AutoFixPolicy `json:"policies"`
	Config   []AutoFixPolicy `json:"config"`
	Changed  *AutoFixChange  `json:"changed,omitempty"`
}

func toPolicy(p store.AutoFixPolicy) AutoFixPolicy {
	out := AutoFixPolicy{Mode: p.Mode, MinIdleDays: int(p.MinIdle / (24 * time.Hour)), Accounts: p.Accounts, OUs: p.OUs}
	if out.Accounts == nil {
		out.Accounts = []string{}
	}
	if out.OUs == nil {
		out.OUs = []string{}
	}
	return out
}

// ToAutoFixChange is the API's view of a change (the dashboard shows the
// same fields).
func ToAutoFixChange(c store.AutoFixChange) AutoFixChange {
	return AutoFixChange{ID: c.ID, Rule: c.Rule, AutoFixPolicy: toPolicy(c.AutoFixPolicy), By: c.By, At: c.At}
}

// AutoFixRules is every fixable rule with its policies: the config's,
// replaced by the latest change where an admin made one.
func AutoFixRules(cfg AutoFix, changes []store.AutoFixChange) []AutoFixRule {
	eff := store.EffectiveAutoFix(cfg.Baseline, changes)
	out := make([]AutoFixRule, 0, len(FixableRules))
	for _, id := range FixableRules {
		r := AutoFixRule{Rule: id, Policies: []AutoFixPolicy{}, Config: []AutoFixPolicy{}}
		if ru, ok := rules.ByID(id); ok {
			r.Title = ru.Title
		}
		for _, p := range eff {
			if p.Rule == id {
				r.Policies = append(r.Policies, toPolicy(p))
			}
		}
		for _, p := range cfg.Baseline {
			if p.Rule == id {
				r.Config = append(r.Config, toPolicy(p))
			}
		}
		for _, c := range changes {
			if c.Rule == id {
				ch := ToAutoFixChange(c)
				r.Changed = &ch
			}
		}
		out = append(out, r)
	}
	return out
}

// ErrNoFixableRule is CheckAutoFix's error for a rule the fix engine
// does not fix.
var ErrNoFixableRule = errors.New("not a rule the fix engine fixes")

// CheckAutoFix checks an admin's policy for a rule, as the serve config
// checks auto_fix: a fixable rule, a mode of off, plan or apply (apply
// only where an audit log records the changes), an idle guard of at
// least a day (thirty when not given), 12-digit accounts, and accounts
// or OUs, not both. The management account is never fixed
// automatically, whatever the policy: the service skips it and the fix
// engine refuses it.
func CheckAutoFix(rule string, in AutoFixPolicy, cfg AutoFix) (store.AutoFixPolicy, error) {
	p := store.AutoFixPolicy{Rule: rule, Mode: strings.TrimSpace(in.Mode)}
	if !slices.Contains(FixableRules, rule) {
		return p, ErrNoFixableRule
	}
	switch p.Mode {
	case store.AutoFixOff, store.AutoFixPlan:
	case store.AutoFixApply:
		if !cfg.CanApply {
			return p, errors.New("mode apply needs an audit log of every change this service makes: start vigil serve with --audit-log FILE; choose plan or off")
		}
	default:
		return p, errors.New("mode " + strconv.Quote(in.Mode) + ": want off, plan (record and alert what vigil fix would do) or apply")
	}
	days := in.MinIdleDays
	if days == 0 {
		days = DefaultMinIdleDays
	}
	if days < 1 || days > maxMinIdleDays {
		return p, errors.New("min_idle_days " + strconv.Itoa(in.MinIdleDays) + ": want 1 to " + strconv.Itoa(maxMinIdleDays) + " (a root key used more recently is never removed)")
	}
	p.MinIdle = time.Duration(days) * 24 * time.Hour
	for _, a := range in.Accounts {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if !accountID.MatchString(a) {
			return p, errors.New("accounts: " + strconv.Quote(a) + " is not a 12-digit account ID")
		}
		if !slices.Contains(p.Accounts, a) {
			p.Accounts = append(p.Accounts, a)
		}
	}
	for _, o := range in.OUs {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if len(o) > 1024 {
			return p, errors.New("ous: an OU path is at most 1,024 characters")
		}
		if !slices.Contains(p.OUs, o) {
			p.OUs = append(p.OUs, o)
		}
	}
	if len(p.Accounts) > 0 && len(p.OUs) > 0 {
		return p, errors.New("give accounts or ous, not both")
	}
	if len(p.Accounts) > 1000 || len(p.OUs) > 1000 {
		return p, errors.New("at most 1,000 accounts or OUs")
	}
	return p, nil
}

// autoFixHistory is how many changes GET /api/v1/autofix lists.
const autoFixHistory = 50

func (a *api) autoFix(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	changes, err := a.cfg.Store.AutoFixChanges(ctx)
	if err != nil {
		a.internal(w, err)
		return
	}
	hist, err := a.cfg.Store.AutoFixHistory(ctx, autoFixHistory)
	if err != nil {
		a.internal(w, err)
		return
	}
	out := struct {
		Rules          []AutoFixRule   `json:"rules"`
		ApplyAvailable bool            `json:"apply_available"`
		History        []AutoFixChange `json:"history"`
	}{Rules: AutoFixRules(a.cfg.AutoFix, changes), ApplyAvailable: a.cfg.AutoFix.CanApply, History: make([]AutoFixChange, 0, len(hist))}
	for _, c := range hist {
		out.History = append(out.History, ToAutoFixChange(c))
	}
	writeJSON(w, http.StatusOK, out)
}

// setAutoFix replaces a rule's policy with the body's: who changed it
// is the token's name. A rule the fix engine does not fix is a 404
// whatever the body.
func (a *api) setAutoFix(w http.ResponseWriter, r *http.Request) {
	rule := r.PathValue("rule")
	if !slices.Contains(FixableRules, rule) {
		a.noAutoFix(w, rule)
		return
	}
	var in AutoFixPolicy
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", "body: "+err.Error())
		return
	}
	p, err := CheckAutoFix(rule, in, a.cfg.AutoFix)
	if errors.Is(err, ErrNoFixableRule) {
		a.noAutoFix(w, rule)
		return
	}
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_autofix", err.Error())
		return
	}
	t, _ := r.Context().Value(ctxKey{}).(store.Token)
	c, err := a.cfg.Store.SetAutoFix(r.Context(), store.AutoFixChange{AutoFixPolicy: p, By: "token " + t.Name, At: a.cfg.Clock.Now()})
	if err != nil {
		a.internal(w, err)
		return
	}
	a.cfg.Logger.Info("auto-fix policy changed", "rule", c.Rule, "mode", c.Mode, "by_token", t.Name)
	a.writeAutoFixRule(w, r, rule)
}

// resetAutoFix drops the admins' change to a rule, so that the serve
// config's policy applies again: recorded as a change of mode "config"
// with who and when, so the history keeps it. A rule with no change in
// force is left as it is (nothing recorded), and answered the same.
func (a *api) resetAutoFix(w http.ResponseWriter, r *http.Request) {
	rule := r.PathValue("rule")
	if !slices.Contains(FixableRules, rule) {
		a.noAutoFix(w, rule)
		return
	}
	t, _ := r.Context().Value(ctxKey{}).(store.Token)
	reset, err := ResetAutoFix(r.Context(), a.cfg.Store, rule, "token "+t.Name, a.cfg.Clock.Now())
	if err != nil {
		a.internal(w, err)
		return
	}
	if reset {
		a.cfg.Logger.Info("auto-fix policy reset to the config's", "rule", rule, "by_token", t.Name)
	}
	a.writeAutoFixRule(w, r, rule)
}

// AutoFixStore is what a reset needs of the store.
type AutoFixStore interface {
	SetAutoFix(ctx context.Context, c store.AutoFixChange) (store.AutoFixChange, error)
	AutoFixChanges(ctx context.Context) ([]store.AutoFixChange, error)
}

// ResetAutoFix records, by who at now, that a rule's change in force is
// dropped and the serve config's policy applies again; reset is false
// when the rule had no change in force (then nothing is recorded). The
// API and the dashboard both reset through it.
func ResetAutoFix(ctx context.Context, st AutoFixStore, rule, by string, now time.Time) (reset bool, err error) {
	changes, err := st.AutoFixChanges(ctx)
	if err != nil {
		return false, err
	}
	if !slices.ContainsFunc(changes, func(c store.AutoFixChange) bool { return c.Rule == rule }) {
		return false, nil
	}
	_, err = st.SetAutoFix(ctx, store.AutoFixChange{AutoFixPolicy: store.AutoFixPolicy{Rule: rule, Mode: store.AutoFixConfig}, By: by, At: now})
	return err == nil, err
}

func (a *api) noAutoFix(w http.ResponseWriter, rule string) {
	writeError(w, http.StatusNotFound, "not_found", "no auto-fix for rule "+strconv.Quote(rule)+": the fix engine fixes "+strings.Join(FixableRules, " and "))
}

// writeAutoFixRule answers a change with the rule as it now stands. The
// rule is a fixable one, so it is listed; were it not, the answer is
// still a JSON error, never an empty 200.
func (a *api) writeAutoFixRule(w http.ResponseWriter, r *http.Request, rule string) {
	changes, err := a.cfg.Store.AutoFixChanges(r.Context())
	if err != nil {
		a.internal(w, err)
		return
	}
	for _, x := range AutoFixRules(a.cfg.AutoFix, changes) {
		if x.Rule == rule {
			writeJSON(w, http.StatusOK, map[string]any{"rule": x})
			return
		}
	}
	a.internal(w, errors.New("auto-fix rule "+strconv.Quote(rule)+" is not among the fixable rules listed"))
}
