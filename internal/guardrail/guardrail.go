package guardrail

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/iampolicy"
	"github.com/vigil-sec/vigil/internal/prevent"
)

// Orgs is every Organizations call the guardrails make. The first six
// read; the rest change the organisation and are only called by a plan's
// steps.
type Orgs interface {
	DescribeOrganization(context.Context, *organizations.DescribeOrganizationInput, ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
	ListRoots(context.Context, *organizations.ListRootsInput, ...func(*organizations.Options)) (*organizations.ListRootsOutput, error)
	ListAWSServiceAccessForOrganization(context.Context, *organizations.ListAWSServiceAccessForOrganizationInput, ...func(*organizations.Options)) (*organizations.ListAWSServiceAccessForOrganizationOutput, error)
	ListPolicies(context.Context, *organizations.ListPoliciesInput, ...func(*organizations.Options)) (*organizations.ListPoliciesOutput, error)
	DescribePolicy(context.Context, *organizations.DescribePolicyInput, ...func(*organizations.Options)) (*organizations.DescribePolicyOutput, error)
	ListTargetsForPolicy(context.Context, *organizations.ListTargetsForPolicyInput, ...func(*organizations.Options)) (*organizations.ListTargetsForPolicyOutput, error)

	EnableAWSServiceAccess(context.Context, *organizations.EnableAWSServiceAccessInput, ...func(*organizations.Options)) (*organizations.EnableAWSServiceAccessOutput, error)
	EnablePolicyType(context.Context, *organizations.EnablePolicyTypeInput, ...func(*organizations.Options)) (*organizations.EnablePolicyTypeOutput, error)
	CreatePolicy(context.Context, *organizations.CreatePolicyInput, ...func(*organizations.Options)) (*organizations.CreatePolicyOutput, error)
	UpdatePolicy(context.Context, *organizations.UpdatePolicyInput, ...func(*organizations.Options)) (*organizations.UpdatePolicyOutput, error)
	AttachPolicy(context.Context, *organizations.AttachPolicyInput, ...func(*organizations.Options)) (*organizations.AttachPolicyOutput, error)
}

// IAM is every IAM call the guardrails make: one read, two changes.
type IAM interface {
	ListOrganizationsFeatures(context.Context, *iam.ListOrganizationsFeaturesInput, ...func(*iam.Options)) (*iam.ListOrganizationsFeaturesOutput, error)
	EnableOrganizationsRootCredentialsManagement(context.Context, *iam.EnableOrganizationsRootCredentialsManagementInput, ...func(*iam.Options)) (*iam.EnableOrganizationsRootCredentialsManagementOutput, error)
	EnableOrganizationsRootSessions(context.Context, *iam.EnableOrganizationsRootSessionsInput, ...func(*iam.Options)) (*iam.EnableOrganizationsRootSessionsOutput, error)
}

// STS identifies the caller.
type STS interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Clients are the API clients of the management account (or of the one
// account, standalone).
type Clients struct {
	Orgs Orgs
	IAM  IAM
	STS  STS
	// Monitor gives the EventBridge and SQS clients of a region: the
	// queue lives in the home region, whatever region the run signs in to.
	Monitor func(region string) MonitorClients
}

// NewClients builds real SDK clients.
func NewClients(cfg aws.Config) Clients {
	return Clients{Orgs: organizations.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg), STS: sts.NewFromConfig(cfg),
		Monitor: func(region string) MonitorClients {
			return MonitorClients{
				Events: eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.Region = region }),
				SQS:    sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.Region = region }),
			}
		}}
}

// Actions are the IAM actions `vigil prevent --apply` needs on the
// organisation, one per method of Orgs, IAM and STS (a test holds them
// together).
var Actions = []string{
	"iam:EnableOrganizationsRootCredentialsManagement",
	"iam:EnableOrganizationsRootSessions",
	"iam:ListOrganizationsFeatures",
	"organizations:AttachPolicy",
	"organizations:CreatePolicy",
	"organizations:DescribeOrganization",
	"organizations:DescribePolicy",
	"organizations:EnableAWSServiceAccess",
	"organizations:EnablePolicyType",
	"organizations:ListAWSServiceAccessForOrganization",
	"organizations:ListPolicies",
	"organizations:ListRoots",
	"organizations:ListTargetsForPolicy",
	"organizations:UpdatePolicy",
	"sts:GetCallerIdentity",
}

// QueueActions and RuleActions are what --apply needs for the root
// activity queue, one per method of SQS and Events; they are granted on
// Vigil's queues and rule only.
var (
	QueueActions = []string{"sqs:CreateQueue", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SetQueueAttributes"}
	RuleActions  = []string{"events:DescribeRule", "events:ListTargetsByRule", "events:PutRule", "events:PutTargets"}
)

// Policy returns the identity policy `vigil prevent --plan` and `--apply`
// need in partition. Organizations, IAM's organisation features and STS
// take no resource narrower than "*"; the queue and rule actions are
// limited to Vigil's queues (the queue and its dead-letter queue, by
// name prefix) and its rule on any bus (central or default).
func Policy(partition string) collect.Policy {
	actions := slices.Clone(Actions)
	slices.Sort(actions)
	return collect.Policy{Version: iampolicy.Version2012, Statement: []collect.Statement{
		{Sid: "VigilPreventApply", Effect: "Allow", Action: actions, Resource: "*"},
		{Sid: "VigilRootActivityQueue", Effect: "Allow", Action: slices.Clone(QueueActions),
			Resource: fmt.Sprintf("arn:%s:sqs:*:*:%s*", partition, prevent.QueueName)},
		{Sid: "VigilRootActivityRule", Effect: "Allow", Action: slices.Clone(RuleActions),
			Resource: fmt.Sprintf("arn:%s:events:*:*:rule/*%s", partition, prevent.AlertRuleName)},
	}}
}

const (
	iamPrincipal = "iam.amazonaws.com"
	scpType      = orgtypes.PolicyTypeServiceControlPolicy
	// maxSCPsPerTarget is the Organizations quota of SCPs on one root, OU
	// or account.
	maxSCPsPerTarget = 5
)

// State is what the management account (or the one account, standalone)
// shows before any change.
type State struct {
	// Standalone: one account, no organisation; only the queue is planned.
	Standalone bool
	// Monitor is the home region's rule and queues; nil when not read.
	Monitor             *MonitorState
	CallerARN           string
	Account             string
	Partition           string
	OrganizationID      string
	ManagementAccountID string
	RootID              string
	// SCPEnabled: the SCP policy type is enabled on the root.
	SCPEnabled       bool
	TrustedAccessIAM bool
	RootCredentials  bool
	RootSessions     bool
	// SCPs are the organisation's service control policies.
	SCPs []ExistingPolicy
}

// ExistingPolicy is an SCP as read.
type ExistingPolicy struct {
	ID, Name   string
	AWSManaged bool
	Content    string
	Targets    []string
}

// NotManagementError is returned when the credentials are not the
// management account's.
type NotManagementError struct {
	Account, Management, Organization string
}

func (e NotManagementError) Error() string {
	return fmt.Sprintf("these credentials are for account %s, but only the management account %s of organisation %s can enable centralised root access and manage SCPs: run with the management account's credentials",
		e.Account, e.Management, e.Organization)
}

// readError names the call that failed.
func readError(call string, err error) error {
	switch kind, code := collect.Classify(err); kind {
	case collect.KindCredentials:
		return &collect.CredentialError{Call: call, Code: code, Err: err}
	case collect.KindTimeout:
		return &collect.CallError{Call: call, Err: err}
	}
	return collect.Explain(call, err)
}

// ReadStandalone identifies the caller for a standalone run: one account,
// whatever organisation it may be in, and no SCP.
func ReadStandalone(ctx context.Context, c Clients) (*State, error) {
	id, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, readError("sts:GetCallerIdentity", err)
	}
	st := &State{Standalone: true, CallerARN: aws.ToString(id.Arn), Account: aws.ToString(id.Account)}
	st.Partition = collect.PartitionOf(st.CallerARN)
	return st, nil
}

// Read reads the organisation's current state. It makes read-only calls
// only, and fails (naming the call) when any of them fails: a plan built
// on part of the state could repeat or skip a change.
func Read(ctx context.Context, c Clients) (*State, error) {
	id, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, readError("sts:GetCallerIdentity", err)
	}
	st := &State{CallerARN: aws.ToString(id.Arn), Account: aws.ToString(id.Account)}
	st.Partition = collect.PartitionOf(st.CallerARN)
	org, err := c.Orgs.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		var notInUse *orgtypes.AWSOrganizationsNotInUseException
		if errors.As(err, &notInUse) {
			return nil, fmt.Errorf("account %s is not in an AWS Organization: SCPs and centralised root access need one (organizations:DescribeOrganization); run with --standalone to make the root activity rule and queue of this account alone", st.Account)
		}
		return nil, readError("organizations:DescribeOrganization", err)
	}
	st.OrganizationID = aws.ToString(org.Organization.Id)
	st.ManagementAccountID = aws.ToString(org.Organization.MasterAccountId)
	if st.Account != st.ManagementAccountID {
		return nil, NotManagementError{Account: st.Account, Management: st.ManagementAccountID, Organization: st.OrganizationID}
	}
	if org.Organization.FeatureSet != orgtypes.OrganizationFeatureSetAll {
		return nil, fmt.Errorf("organisation %s has only consolidated billing features: SCPs and centralised root access need all features enabled (organizations:EnableAllFeatures)", st.OrganizationID)
	}

	roots, err := c.Orgs.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		return nil, readError("organizations:ListRoots", err)
	}
	if len(roots.Roots) == 0 {
		return nil, errors.New("organizations:ListRoots returned no root")
	}
	root := roots.Roots[0]
	st.RootID = aws.ToString(root.Id)
	for _, pt := range root.PolicyTypes {
		if pt.Type == scpType && pt.Status == orgtypes.PolicyTypeStatusEnabled {
			st.SCPEnabled = true
		}
	}

	access := organizations.NewListAWSServiceAccessForOrganizationPaginator(c.Orgs, &organizations.ListAWSServiceAccessForOrganizationInput{MaxResults: aws.Int32(20)})
	for access.HasMorePages() {
		page, err := access.NextPage(ctx)
		if err != nil {
			return nil, readError("organizations:ListAWSServiceAccessForOrganization", err)
		}
		for _, sp := range page.EnabledServicePrincipals {
			if aws.ToString(sp.ServicePrincipal) == iamPrincipal {
				st.TrustedAccessIAM = true
			}
		}
	}

	feats, err := c.IAM.ListOrganizationsFeatures(ctx, &iam.ListOrganizationsFeaturesInput{})
	if err != nil {
		var noAccess *iamtypes.ServiceAccessNotEnabledException
		if !errors.As(err, &noAccess) {
			return nil, readError("iam:ListOrganizationsFeatures", err)
		}
	} else {
		for _, f := range feats.EnabledFeatures {
			switch f {
			case iamtypes.FeatureTypeRootCredentialsManagement:
				st.RootCredentials = true
			case iamtypes.FeatureTypeRootSessions:
				st.RootSessions = true
			}
		}
	}

	// Policies are listed even when SCPs are off on the root: they can be
	// created before the type is enabled, and an earlier partial run may
	// have done just that.
	list := organizations.NewListPoliciesPaginator(c.Orgs, &organizations.ListPoliciesInput{Filter: scpType, MaxResults: aws.Int32(20)})
	for list.HasMorePages() {
		page, err := list.NextPage(ctx)
		if err != nil {
			return nil, readError("organizations:ListPolicies", err)
		}
		for _, s := range page.Policies {
			p := ExistingPolicy{ID: aws.ToString(s.Id), Name: aws.ToString(s.Name), AWSManaged: s.AwsManaged}
			d, err := c.Orgs.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: s.Id})
			if err != nil {
				return nil, readError("organizations:DescribePolicy "+p.ID, err)
			}
			p.Content = aws.ToString(d.Policy.Content)
			targets := organizations.NewListTargetsForPolicyPaginator(c.Orgs, &organizations.ListTargetsForPolicyInput{PolicyId: s.Id, MaxResults: aws.Int32(20)})
			for targets.HasMorePages() {
				tp, err := targets.NextPage(ctx)
				if err != nil {
					return nil, readError("organizations:ListTargetsForPolicy "+p.ID, err)
				}
				for _, t := range tp.Targets {
					p.Targets = append(p.Targets, aws.ToString(t.TargetId))
				}
			}
			st.SCPs = append(st.SCPs, p)
		}
	}
	return st, nil
}
