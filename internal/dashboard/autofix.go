package dashboard

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/store"
)

// The auto-fix page: for each rule the fix engine fixes, the policy in
// force, the serve config's, and for admins a form that changes it
// (recorded with who and when, read by every replica); the latest
// changes below.

// autoFixHistory is how many changes the page lists.
const autoFixHistory = 20

func (d *dash) autoFixPage(w http.ResponseWriter, r *http.Request, s *session) {
	// ?changed= is where the form lands: the rule it changed; ?reset=
	// where the reset button lands.
	changed, reset := r.URL.Query().Get("changed"), r.URL.Query().Get("reset")
	if !slices.Contains(api.FixableRules, changed) {
		changed = ""
	}
	if !slices.Contains(api.FixableRules, reset) {
		reset = ""
	}
	d.showAutoFix(w, r, s, autoFixNotice{Changed: changed, Reset: reset}, "", "", http.StatusOK)
}

// autoFixNotice is what the page says was just done: the rule whose
// policy was changed, or reset to the serve config's.
type autoFixNotice struct {
	Changed, Reset string
}

// showAutoFix renders the page; formRule and formErr say which rule's
// form was refused and why, done what was just done.
func (d *dash) showAutoFix(w http.ResponseWriter, r *http.Request, s *session, done autoFixNotice, formRule, formErr string, status int) {
	ctx := r.Context()
	changes, err := d.cfg.Store.AutoFixChanges(ctx)
	if err != nil {
		d.fail(w, err)
		return
	}
	hist, err := d.cfg.Store.AutoFixHistory(ctx, autoFixHistory)
	if err != nil {
		d.fail(w, err)
		return
	}
	var history []api.AutoFixChange
	for _, c := range hist {
		history = append(history, api.ToAutoFixChange(c))
	}
	w.WriteHeader(status)
	d.render(w, "autofix", s, "Auto-fix", map[string]any{"Rules": api.AutoFixRules(d.cfg.AutoFix, changes), "History": history,
		"CanApply": d.cfg.AutoFix.CanApply, "Changed": done.Changed, "Reset": done.Reset, "FormRule": formRule, "FormError": formErr})
}

// fields splits a form's list (commas, spaces or lines between items).
func fields(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// setAutoFix changes a rule's policy from its form.
func (d *dash) setAutoFix(w http.ResponseWriter, r *http.Request, s *session) {
	rule := r.PathValue("rule")
	in := api.AutoFixPolicy{Mode: r.PostFormValue("mode"), Accounts: fields(r.PostFormValue("accounts")), OUs: fields(r.PostFormValue("ous"))}
	if v := strings.TrimSpace(r.PostFormValue("min_idle_days")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			d.showAutoFix(w, r, s, autoFixNotice{}, rule, "Minimum idle time: a whole number of days, at least 1.", http.StatusUnprocessableEntity)
			return
		}
		in.MinIdleDays = n
	}
	p, err := api.CheckAutoFix(rule, in, d.cfg.AutoFix)
	if errors.Is(err, api.ErrNoFixableRule) {
		http.Error(w, "no auto-fix for that rule", http.StatusNotFound)
		return
	}
	if err != nil {
		d.showAutoFix(w, r, s, autoFixNotice{}, rule, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	c, err := d.cfg.Store.SetAutoFix(r.Context(), store.AutoFixChange{AutoFixPolicy: p, By: "token " + s.name, At: d.cfg.Clock.Now()})
	if err != nil {
		d.fail(w, err)
		return
	}
	d.cfg.Logger.Info("auto-fix policy changed from the dashboard", "rule", c.Rule, "mode", c.Mode, "by_token", s.name)
	http.Redirect(w, r, "/autofix?changed="+rule+"#"+rule, http.StatusSeeOther)
}

// resetAutoFix drops the admins' change to a rule from its button: the
// serve config's policy applies again, and the reset is recorded with
// who and when.
func (d *dash) resetAutoFix(w http.ResponseWriter, r *http.Request, s *session) {
	rule := r.PathValue("rule")
	if !slices.Contains(api.FixableRules, rule) {
		http.Error(w, "no auto-fix for that rule", http.StatusNotFound)
		return
	}
	reset, err := api.ResetAutoFix(r.Context(), d.cfg.Store, rule, "token "+s.name, d.cfg.Clock.Now())
	if err != nil {
		d.fail(w, err)
		return
	}
	if reset {
		d.cfg.Logger.Info("auto-fix policy reset to the config's from the dashboard", "rule", rule, "by_token", s.name)
	}
	http.Redirect(w, r, "/autofix?reset="+rule+"#"+rule, http.StatusSeeOther)
}
