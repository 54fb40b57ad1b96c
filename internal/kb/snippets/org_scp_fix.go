package snippets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// RootSCP is a service control policy to put in place: its name in AWS
// Organizations, a description, and the policy text (JSON).
type RootSCP struct {
	Name, Description, Content string
}

// EnsureRootSCPs puts service control policies in place from the
// management account. It enables the SCP policy type on the organisation
// root if it is off, creates each policy unless one of that name exists,
// and attaches each policy to every target (the root r-…, OUs ou-…, or
// account IDs) it is not attached to yet. It returns the policy IDs in the
// order given. It never changes an existing policy: one of the same name
// with a different text is an error, to be settled by hand. Every step can
// be repeated, so the function can be re-run after a partial failure.
func EnsureRootSCPs(ctx context.Context, cfg aws.Config, targets []string, policies []RootSCP) ([]string, error) {
	client := organizations.NewFromConfig(cfg)
	if err := enableSCPs(ctx, client); err != nil {
		return nil, err
	}
	existing := map[string]*string{} // name → ID
	pages := organizations.NewListPoliciesPaginator(client, &organizations.ListPoliciesInput{Filter: types.PolicyTypeServiceControlPolicy})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("organizations:ListPolicies: %w", err)
		}
		for _, p := range page.Policies {
			existing[aws.ToString(p.Name)] = p.Id
		}
	}
	var ids []string
	for _, p := range policies {
		// Through the API every character counts towards the 5,120-character
		// limit, whitespace included: send the policy without it.
		var text bytes.Buffer
		if err := json.Compact(&text, []byte(p.Content)); err != nil {
			return ids, fmt.Errorf("SCP %s is not JSON: %w", p.Name, err)
		}
		id := existing[p.Name]
		if id == nil {
			out, err := client.CreatePolicy(ctx, &organizations.CreatePolicyInput{
				Name:        aws.String(p.Name),
				Description: aws.String(p.Description),
				Content:     aws.String(text.String()),
				Type:        types.PolicyTypeServiceControlPolicy,
			})
			if err != nil {
				return ids, fmt.Errorf("organizations:CreatePolicy %s: %w", p.Name, err)
			}
			id = out.Policy.PolicySummary.Id
		} else {
			d, err := client.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: id})
			if err != nil {
				return ids, fmt.Errorf("organizations:DescribePolicy %s: %w", aws.ToString(id), err)
			}
			var have bytes.Buffer
			if json.Compact(&have, []byte(aws.ToString(d.Policy.Content))) != nil || have.String() != text.String() {
				return ids, fmt.Errorf("SCP %s (%s) exists with a different text; compare and update it by hand", p.Name, aws.ToString(id))
			}
		}
		for _, target := range targets {
			_, err := client.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: id, TargetId: aws.String(target)})
			var attached *types.DuplicatePolicyAttachmentException
			if err != nil && !errors.As(err, &attached) {
				return ids, fmt.Errorf("organizations:AttachPolicy %s to %s: %w", p.Name, target, err)
			}
		}
		ids = append(ids, aws.ToString(id))
	}
	return ids, nil
}

// enableSCPs enables the SERVICE_CONTROL_POLICY type on the organisation
// root and waits until it is ENABLED: Organizations enables it in the
// background, and policies cannot be attached before.
func enableSCPs(ctx context.Context, client *organizations.Client) error {
	requested := false
	for {
		roots, err := client.ListRoots(ctx, &organizations.ListRootsInput{})
		if err != nil {
			return fmt.Errorf("organizations:ListRoots: %w", err)
		}
		if len(roots.Roots) != 1 {
			return fmt.Errorf("organizations:ListRoots: %d roots", len(roots.Roots))
		}
		root := roots.Roots[0]
		var status types.PolicyTypeStatus
		for _, t := range root.PolicyTypes {
			if t.Type == types.PolicyTypeServiceControlPolicy {
				status = t.Status
			}
		}
		switch {
		case status == types.PolicyTypeStatusEnabled:
			return nil
		case status == "" && !requested:
			_, err := client.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{
				RootId:     root.Id,
				PolicyType: types.PolicyTypeServiceControlPolicy,
			})
			var already *types.PolicyTypeAlreadyEnabledException
			if err != nil && !errors.As(err, &already) {
				return fmt.Errorf("organizations:EnablePolicyType %s on %s: %w", types.PolicyTypeServiceControlPolicy, aws.ToString(root.Id), err)
			}
			requested = true
			continue
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for SCPs to be enabled on %s: %w", aws.ToString(root.Id), ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}
