package change

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Step is one change to AWS: one API call on one target.
type Step struct {
	// ID names the step uniquely within its plan; DependsOn refers to it.
	ID string `json:"id"`
	// Account is the AWS account the change is made in.
	Account string `json:"account"`
	// Action is the API call, as "service:Action".
	Action string `json:"action"`
	// Target is what the call acts on: an organisation, a root, OU or
	// account ID, a policy name or ID, a service principal.
	Target string `json:"target"`
	// Description says what the step does and why, for people.
	Description string `json:"description"`
	// Warning is set when the step has effects beyond its target (such as
	// attaching a policy to the root, which reaches every member account).
	Warning string `json:"warning,omitempty"`
	// Via says what the change is signed with (a role, a task-policy
	// session, a named access key), never a secret; it goes to the audit
	// log.
	Via string `json:"via,omitempty"`
	// DependsOn lists steps that must succeed before this one runs.
	DependsOn []string `json:"depends_on,omitempty"`
	// Run makes the call. It returns a detail worth recording (the ID of
	// what it created), never a secret.
	Run func(ctx context.Context) (detail string, err error) `json:"-"`
}

// Plan is a list of steps in the order they run, with what was found
// already in place.
type Plan struct {
	// Title says what the plan is for.
	Title string `json:"title"`
	// Scope names where it applies, e.g. "organisation o-… (management account …)".
	Scope string `json:"scope"`
	Steps []Step `json:"steps"`
	// InPlace lists what was checked and needs no change, so a re-run that
	// plans nothing says why.
	InPlace []string `json:"in_place"`
	// Warnings are things the user must know before applying.
	Warnings []string `json:"warnings,omitempty"`
	// Blocked lists changes that are needed but cannot be made, with why
	// (a quota reached, say). A plan with blocked changes cannot finish the
	// job however it is applied.
	Blocked []string `json:"blocked,omitempty"`
}

// Validate checks the plan is runnable: unique IDs, dependencies on
// earlier steps only, and a Run for every step.
func (p *Plan) Validate() error {
	seen := map[string]bool{}
	for i, s := range p.Steps {
		if s.ID == "" || seen[s.ID] {
			return fmt.Errorf("step %d: missing or duplicate ID %q", i, s.ID)
		}
		for _, d := range s.DependsOn {
			if !seen[d] {
				return fmt.Errorf("step %s depends on %s, which does not come before it", s.ID, d)
			}
		}
		if s.Run == nil {
			return fmt.Errorf("step %s has nothing to run", s.ID)
		}
		if s.Action == "" || s.Account == "" || s.Target == "" {
			return fmt.Errorf("step %s lacks an action, account or target", s.ID)
		}
		seen[s.ID] = true
	}
	return nil
}

// Status is what happened to a step.
type Status string

const (
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
	// Skipped: not attempted, because a step it depends on did not
	// succeed, the run was cancelled, or the audit log could not be written.
	Skipped Status = "skipped"
)

// Result is one step's outcome.
type Result struct {
	Step   string    `json:"step"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Status Status    `json:"status"`
	Detail string    `json:"detail,omitempty"`
	Error  string    `json:"error,omitempty"`
	Time   time.Time `json:"time"`
}

// Report is the outcome of Apply.
type Report struct {
	Results []Result `json:"results"`
}

// Failed counts the steps that failed or were skipped.
func (r *Report) Failed() int {
	n := 0
	for _, res := range r.Results {
		if res.Status != Succeeded {
			n++
		}
	}
	return n
}

// Confirmer asks whether to go ahead. Interactive use reads the answer
// from a terminal; --yes replaces it with one that always agrees.
type Confirmer interface {
	Confirm(ctx context.Context, prompt string) (bool, error)
}

// Yes is the Confirmer of --yes.
type Yes struct{}

// Confirm always agrees.
func (Yes) Confirm(context.Context, string) (bool, error) { return true, nil }

// ErrDeclined is returned by Apply when the confirmation was refused; no
// step ran.
var ErrDeclined = errors.New("not confirmed: nothing was changed")

// Options tune Apply.
type Options struct {
	// Confirmer must be set: there is no implicit consent.
	Confirmer Confirmer
	// Prompt is the question asked; a default naming the plan is used
	// when empty.
	Prompt string
	// Audit receives one entry per attempted step. Required.
	Audit *AuditLog
	// Caller is the ARN of the identity making the changes.
	Caller string
	// RunID groups one run's audit entries.
	RunID string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Apply confirms and runs the plan's steps in order. A failed step does
// not stop the run: the steps that depend on it are skipped and the rest
// go ahead, so one failure does not hide what else needed doing. Every
// attempted step is written to the audit log before the next starts; if
// the log cannot be written, Apply stops there, since it must not make
// changes it cannot record.
//
// The error is ErrDeclined when the confirmation was refused, or a
// failure to confirm or to log; step failures are in the report.
func Apply(ctx context.Context, p *Plan, o Options) (*Report, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("invalid plan: %w", err)
	}
	if o.Confirmer == nil || o.Audit == nil {
		return nil, errors.New("change.Apply needs a Confirmer and an audit log")
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	rep := &Report{Results: []Result{}}
	if len(p.Steps) == 0 {
		return rep, nil
	}
	prompt := o.Prompt
	if prompt == "" {
		prompt = fmt.Sprintf("Apply %d change(s) to %s?", len(p.Steps), p.Scope)
	}
	ok, err := o.Confirmer.Confirm(ctx, prompt)
	if err != nil {
		return nil, fmt.Errorf("confirmation: %w", err)
	}
	if !ok {
		return nil, ErrDeclined
	}
	// The log's file is created now, when the first change is about to
	// be made, and a log that cannot be created stops the run first.
	if err := o.Audit.Begin(); err != nil {
		for _, s := range p.Steps {
			rep.Results = append(rep.Results, Result{Step: s.ID, Action: s.Action, Target: s.Target,
				Status: Skipped, Error: "not attempted: the audit log could not be created", Time: now().UTC()})
		}
		return rep, fmt.Errorf("%w: nothing was attempted", err)
	}

	status := map[string]Status{}
	for i, s := range p.Steps {
		res := Result{Step: s.ID, Action: s.Action, Target: s.Target, Time: now().UTC()}
		switch dep := failedDependency(s, status); {
		case ctx.Err() != nil:
			res.Status, res.Error = Skipped, "not attempted: cancelled ("+ctx.Err().Error()+")"
		case dep != "":
			res.Status, res.Error = Skipped, "not attempted: it depends on "+dep+", which did not succeed"
		default:
			detail, err := s.Run(ctx)
			res.Time = now().UTC()
			res.Detail = detail
			res.Status = Succeeded
			if err != nil {
				res.Status, res.Error = Failed, err.Error()
			}
			// Only attempted steps are changes, so only they are audited.
			if lerr := o.Audit.Record(entryFor(s, res, o)); lerr != nil {
				rep.Results = append(rep.Results, res)
				for _, rest := range p.Steps[i+1:] {
					rep.Results = append(rep.Results, Result{Step: rest.ID, Action: rest.Action, Target: rest.Target,
						Status: Skipped, Error: "not attempted: the audit log could not be written", Time: now().UTC()})
				}
				return rep, fmt.Errorf("audit log: %w (stopped after step %s)", lerr, s.ID)
			}
		}
		status[s.ID] = res.Status
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

func failedDependency(s Step, status map[string]Status) string {
	for _, d := range s.DependsOn {
		if status[d] != Succeeded {
			return d
		}
	}
	return ""
}

func entryFor(s Step, r Result, o Options) Entry {
	return Entry{Time: r.Time, RunID: o.RunID, Caller: o.Caller, Account: s.Account, Target: s.Target,
		Action: s.Action, Step: s.ID, Via: s.Via, Result: string(r.Status), Detail: r.Detail, Error: r.Error}
}
