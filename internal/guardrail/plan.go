package guardrail

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/iampolicy"
	"github.com/vigil-sec/vigil/internal/prevent"
)

// Request is what the user asked for.
type Request struct {
	// Targets are the root, OU and account IDs to attach the SCPs to.
	Targets []string
}

// Step IDs.
const (
	StepTrustedAccess   = "enable-iam-trusted-access"
	StepRootCredentials = "enable-root-credentials-management"
	StepRootSessions    = "enable-root-sessions"
	StepPolicyType      = "enable-scp-policy-type"
)

// BuildPlan compares the state with what Vigil's guardrails need and
// plans the missing changes, in the order they must run. It makes no call:
// every step's Run does its own.
func BuildPlan(st *State, c Clients, req Request) (*change.Plan, error) {
	if st.Standalone {
		return buildStandalonePlan(st, c, req)
	}
	if len(req.Targets) == 0 {
		return nil, errors.New("no target: pass --target with the root ID (" + st.RootID + ") to cover every member account, or OU or account IDs")
	}
	for _, t := range req.Targets {
		if t == st.ManagementAccountID {
			return nil, prevent.ErrManagementTarget{Account: t}
		}
		if strings.HasPrefix(t, "r-") && t != st.RootID {
			return nil, fmt.Errorf("--target %s: the organisation's root is %s", t, st.RootID)
		}
	}
	p := &change.Plan{
		Title:   "Vigil prevention guardrails",
		Scope:   fmt.Sprintf("organisation %s (management account %s)", st.OrganizationID, st.ManagementAccountID),
		Steps:   []change.Step{},
		InPlace: []string{},
	}
	mgmt := st.ManagementAccountID
	step := stepAdder(p, mgmt)

	// Centralised root access: trusted access for IAM first, then both
	// features (the Enable calls fail with ServiceAccessNotEnabled otherwise).
	var accessDep []string
	if st.TrustedAccessIAM {
		p.InPlace = append(p.InPlace, "trusted access for IAM (iam.amazonaws.com) is enabled")
	} else {
		step(change.Step{ID: StepTrustedAccess, Action: "organizations:EnableAWSServiceAccess", Target: iamPrincipal,
			Description: "Let IAM act on the organisation (trusted access), which centralised root access needs.",
			Run: func(ctx context.Context) (string, error) {
				_, err := c.Orgs.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String(iamPrincipal)})
				return "", err
			}})
		accessDep = []string{StepTrustedAccess}
	}
	if st.RootCredentials {
		p.InPlace = append(p.InPlace, "centralised root credentials management (RootCredentialsManagement) is enabled")
	} else {
		step(change.Step{ID: StepRootCredentials, Action: "iam:EnableOrganizationsRootCredentialsManagement", Target: st.OrganizationID, DependsOn: accessDep,
			Description: "Let the management account delete member accounts' root credentials; new accounts get none.",
			Run: func(ctx context.Context) (string, error) {
				_, err := c.IAM.EnableOrganizationsRootCredentialsManagement(ctx, &iam.EnableOrganizationsRootCredentialsManagementInput{})
				return "", err
			}})
	}
	if st.RootSessions {
		p.InPlace = append(p.InPlace, "privileged root sessions (RootSessions) are enabled")
	} else {
		step(change.Step{ID: StepRootSessions, Action: "iam:EnableOrganizationsRootSessions", Target: st.OrganizationID, DependsOn: accessDep,
			Description: "Let the management account run sts:AssumeRoot tasks in member accounts (how root credentials are deleted centrally).",
			Run: func(ctx context.Context) (string, error) {
				_, err := c.IAM.EnableOrganizationsRootSessions(ctx, &iam.EnableOrganizationsRootSessionsInput{})
				return "", err
			}})
	}

	var typeDep []string
	if st.SCPEnabled {
		p.InPlace = append(p.InPlace, "service control policies are enabled on the root "+st.RootID)
	} else {
		step(change.Step{ID: StepPolicyType, Action: "organizations:EnablePolicyType", Target: st.RootID,
			Description: "Enable service control policies on the root. AWS attaches FullAWSAccess everywhere, so this alone changes no one's permissions.",
			Run: func(ctx context.Context) (string, error) {
				_, err := c.Orgs.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(st.RootID), PolicyType: scpType})
				var already *orgtypes.PolicyTypeAlreadyEnabledException
				if errors.As(err, &already) {
					return "already enabled", nil
				}
				return "", err
			}})
		typeDep = []string{StepPolicyType}
	}

	// Attachment counts per target, for the five-SCP quota. Enabling SCPs
	// attaches FullAWSAccess to every target.
	counts := map[string]int{}
	for _, e := range st.SCPs {
		for _, t := range e.Targets {
			counts[t]++
		}
	}
	if !st.SCPEnabled {
		for _, t := range req.Targets {
			counts[t] = max(counts[t], 1)
		}
	}

	for _, want := range prevent.SCPs(st.Partition) {
		content, err := iampolicy.Minify(want.Doc)
		if err != nil {
			return nil, err
		}
		canonical, _ := iampolicy.Canonical(content)
		existing, how := findPolicy(st.SCPs, want.Name, canonical)
		id := new(string) // filled by the create step when it runs
		var createDep []string
		switch {
		case existing == nil:
			createID := "create-" + want.Key
			step(change.Step{ID: createID, Action: "organizations:CreatePolicy", Target: want.Name,
				Description: "Create the SCP " + want.Name + ": " + strings.TrimPrefix(want.Description, "Vigil: ") + ".",
				Run: func(ctx context.Context) (string, error) {
					out, err := c.Orgs.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String(want.Name), Description: aws.String(want.Description),
						Type: scpType, Content: aws.String(string(content))})
					if err != nil {
						return "", err
					}
					*id = aws.ToString(out.Policy.PolicySummary.Id)
					return "created " + *id, nil
				}})
			createDep = []string{createID}
		case how == "name" && !sameContent(existing.Content, canonical):
			*id = existing.ID
			updateID := "update-" + want.Key
			step(change.Step{ID: updateID, Action: "organizations:UpdatePolicy", Target: existing.ID + " (" + want.Name + ")",
				Description: "Replace the text of " + want.Name + ", which differs from what this Vigil generates (edited by hand, or made by an older Vigil).",
				Warning:     "the policy's current text is overwritten; if it was changed on purpose (an exemption), rename it and re-run to keep both",
				Run: func(ctx context.Context) (string, error) {
					_, err := c.Orgs.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(existing.ID), Content: aws.String(string(content))})
					return "", err
				}})
			// Attaching does not need the update to succeed: the policy
			// exists either way.
		default:
			*id = existing.ID
			note := fmt.Sprintf("SCP %s exists as %s", want.Name, existing.ID)
			if how == "content" {
				note = fmt.Sprintf("SCP %s exists with the same text as %s (%s); it is used as is", want.Name, existing.ID, existing.Name)
			}
			p.InPlace = append(p.InPlace, note)
		}

		for _, target := range req.Targets {
			if existing != nil && slices.Contains(existing.Targets, target) {
				p.InPlace = append(p.InPlace, fmt.Sprintf("%s is attached to %s", want.Name, target))
				continue
			}
			if counts[target] >= maxSCPsPerTarget {
				p.Blocked = append(p.Blocked, fmt.Sprintf("attach %s to %s: %s already has %d SCPs, the most AWS allows; detach one first",
					want.Name, target, target, counts[target]))
				continue
			}
			counts[target]++
			s := change.Step{ID: "attach-" + want.Key + "-" + target, Action: "organizations:AttachPolicy", Target: target,
				Description: "Attach " + want.Name + " to " + describeTarget(target) + ".",
				DependsOn:   append(slices.Clone(typeDep), createDep...),
				Run: func(ctx context.Context) (string, error) {
					_, err := c.Orgs.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(*id), TargetId: aws.String(target)})
					var dup *orgtypes.DuplicatePolicyAttachmentException
					if errors.As(err, &dup) {
						return *id + " already attached", nil
					}
					if err != nil {
						return "", err
					}
					return *id, nil
				}}
			if target == st.RootID {
				s.Warning = "attaching to the root applies the policy to every member account, and to every account that joins later"
			}
			step(s)
		}
	}
	p.Warnings = append(p.Warnings, "SCPs never apply to the management account "+mgmt+": its root user is protected only by removing its credentials, MFA and monitoring.")
	if st.Monitor != nil {
		planMonitor(p, st.Monitor, c.Monitor(st.Monitor.Region), step)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// stepAdder returns a function that adds a step made in account to p.
func stepAdder(p *change.Plan, account string) func(change.Step) {
	return func(s change.Step) {
		s.Account = account
		// The result and the audit log say why a call failed in one
		// line, without the SDK's wrapping.
		run := s.Run
		s.Run = func(ctx context.Context) (string, error) {
			detail, err := run(ctx)
			if err != nil {
				return detail, errors.New(collect.Describe(err))
			}
			return detail, nil
		}
		p.Steps = append(p.Steps, s)
	}
}

// buildStandalonePlan plans only the root activity rule and queue of one
// account.
func buildStandalonePlan(st *State, c Clients, req Request) (*change.Plan, error) {
	if len(req.Targets) > 0 {
		return nil, errors.New("--target: SCPs need an AWS Organization; --standalone makes only the root activity rule and queue of this account")
	}
	if st.Monitor == nil {
		return nil, errors.New("standalone plan without the home region's state (a bug in Vigil)")
	}
	p := &change.Plan{
		Title:   "Vigil root activity queue",
		Scope:   fmt.Sprintf("account %s, %s", st.Account, st.Monitor.Region),
		Steps:   []change.Step{},
		InPlace: []string{},
	}
	planMonitor(p, st.Monitor, c.Monitor(st.Monitor.Region), stepAdder(p, st.Account))
	if st.Monitor.Region != prevent.GlobalEventsRegion(st.Partition) {
		p.Warnings = append(p.Warnings, fmt.Sprintf("IAM and console sign-in events (root access key creation among them) land in %s, not %s: without a forwarder from %s (vigil-prevent.tf or cfn-root-activity-forwarder.yaml) this rule never sees them.",
			prevent.GlobalEventsRegion(st.Partition), st.Monitor.Region, prevent.GlobalEventsRegion(st.Partition)))
	}
	p.Warnings = append(p.Warnings, "Root API calls in regions other than "+st.Monitor.Region+" reach the rule only through forwarders, which --apply does not make: deploy them from vigil prevent --out DIR (vigil-prevent.tf or cfn-root-activity-forwarder.yaml).")
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// findPolicy finds Vigil's policy by name, else a customer policy with the
// same text; how says which.
func findPolicy(scps []ExistingPolicy, name, canonical string) (*ExistingPolicy, string) {
	for i := range scps {
		if scps[i].Name == name {
			return &scps[i], "name"
		}
	}
	for i := range scps {
		if !scps[i].AWSManaged && sameContent(scps[i].Content, canonical) {
			return &scps[i], "content"
		}
	}
	return nil, ""
}

func sameContent(content, canonical string) bool {
	c, err := iampolicy.Canonical([]byte(content))
	return err == nil && c == canonical
}

func describeTarget(id string) string {
	switch {
	case strings.HasPrefix(id, "r-"):
		return "the root " + id
	case strings.HasPrefix(id, "ou-"):
		return "OU " + id
	}
	return "account " + id
}
