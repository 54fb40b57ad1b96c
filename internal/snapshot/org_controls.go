package snapshot

import (
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/input"
)

// OrgControls is the organisation's structure and the service control
// policies attached in it, as the management account reads them. It is
// what a rule needs to say which member accounts a policy reaches: SCPs
// apply to the target they are attached to and to everything below it.
//
// Unknown stays explicit: Root is nil when ListRoots failed, SCPs is nil
// when ListPolicies failed, and a tree walk that failed part-way keeps
// what it read and records a gap (section SectionOrgTree) — so an account
// missing from Accounts is "not read", never "not there", unless the
// organisation has no such gap.
type OrgControls struct {
	Root     *OrgRoot     `json:"root"`
	OUs      []OrgUnit    `json:"ous"`
	Accounts []OrgAccount `json:"accounts"`
	SCPs     []OrgPolicy  `json:"service_control_policies"`
}

// OrgRoot is the organisation's root.
type OrgRoot struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// PolicyTypes are the policy types enabled on the root
	// (SERVICE_CONTROL_POLICY, RESOURCE_CONTROL_POLICY, …). Policies of a
	// type that is not enabled have no effect.
	PolicyTypes []string `json:"policy_types"`
}

// OrgUnit is an organisational unit.
type OrgUnit struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	ParentID string `json:"parent_id"`
}

// OrgAccount is an account in the organisation's tree.
type OrgAccount struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	ParentID string `json:"parent_id"`
	// State is ACTIVE, SUSPENDED, PENDING_CLOSURE or CLOSED.
	State        string `json:"state,omitempty"`
	JoinedMethod string `json:"joined_method,omitempty"`
	// JoinedTimestamp is when the account joined (for CREATED accounts,
	// when it was created). Some accounts created before 2017-09-15 keep
	// root abilities no SCP can restrict.
	JoinedTimestamp *time.Time `json:"joined_timestamp,omitempty"`
}

// OrgPolicy is one policy with its text and attachments.
type OrgPolicy struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	AWSManaged  bool   `json:"aws_managed,omitempty"`
	// Content is the policy text; empty when DescribePolicy failed (see
	// Gaps).
	Content string `json:"content,omitempty"`
	// Targets are the root, OU and account IDs the policy is attached to;
	// nil when ListTargetsForPolicy failed (see Gaps).
	Targets []string `json:"targets"`
	Gaps    []Gap    `json:"gaps,omitempty"`
}

// Sections of the organisation that can be missing.
const (
	SectionOrgTree = "organization_tree"
	SectionOrgSCPs = "organization_scps"
)

// GapFor returns the first organisation-level gap of a section, or nil.
func (o *Organization) GapFor(section string) *Gap {
	for i := range o.Gaps {
		if o.Gaps[i].Section == section {
			return &o.Gaps[i]
		}
	}
	return nil
}

// Account returns the tree's account with the given ID, or nil.
func (c *OrgControls) Account(id string) *OrgAccount {
	for i := range c.Accounts {
		if c.Accounts[i].ID == id {
			return &c.Accounts[i]
		}
	}
	return nil
}

// OU returns the OU with the given ID, or nil.
func (c *OrgControls) OU(id string) *OrgUnit {
	for i := range c.OUs {
		if c.OUs[i].ID == id {
			return &c.OUs[i]
		}
	}
	return nil
}

// Chain returns the IDs a policy can reach id through: id itself, then
// each parent up to and including the root. The walk stops at a parent the
// tree does not know, and at a cycle (which a well-formed tree never has).
func (c *OrgControls) Chain(id string) []string {
	chain := []string{id}
	seen := map[string]bool{id: true}
	parent := ""
	if a := c.Account(id); a != nil {
		parent = a.ParentID
	} else if ou := c.OU(id); ou != nil {
		parent = ou.ParentID
	}
	for parent != "" && !seen[parent] {
		chain = append(chain, parent)
		seen[parent] = true
		ou := c.OU(parent)
		if ou == nil {
			break
		}
		parent = ou.ParentID
	}
	return chain
}

// Path returns the names of the OUs between the root and id, outermost
// first: an account directly under the root has an empty path.
func (c *OrgControls) Path(id string) []string {
	chain := c.Chain(id)
	var names []string
	for i := len(chain) - 1; i >= 1; i-- {
		if ou := c.OU(chain[i]); ou != nil {
			names = append(names, ou.Name)
		}
	}
	return names
}

// validate checks identifiers the rules rely on.
func (c *OrgControls) validate() error {
	for i, a := range c.Accounts {
		if !IsAccountID(a.ID) {
			return fmt.Errorf("organization.controls.accounts[%d]: id %s is not a 12-digit AWS account ID", i, input.Quote(a.ID))
		}
	}
	for i, p := range c.SCPs {
		if p.ID == "" {
			return fmt.Errorf("organization.controls.service_control_policies[%d]: id is missing", i)
		}
	}
	return nil
}
