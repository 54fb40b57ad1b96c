package report

// Knowledge is what Vigil's knowledge base and compliance catalog say
// about each rule, by rule ID, for the formats that carry help and
// framework controls beside their findings (SARIF's rule help, OCSF's
// compliance and remediation). A Document holds results, not the pages
// that explain them: the command line fills a Knowledge from internal/kb
// and internal/compliance and hands it to those writers, so this package
// and the writers load neither, and a writer's tests can give it a small
// one. A rule it does not know is written without help, never refused.
type Knowledge map[string]RuleKnowledge

// RuleKnowledge is one rule's entry in a Knowledge.
type RuleKnowledge struct {
	// Help is the rule's whole knowledge-base page, in Markdown.
	Help string
	// Summary is the page's risk section in plain words: why a failure
	// matters, in a paragraph or two.
	Summary string
	// Remediation is what to do about a failure, in Markdown, for a
	// standalone or management account; RemediationMember for a member
	// account of an organisation (its root may be reached centrally).
	Remediation       string
	RemediationMember string
	// Controls are the framework controls the rule maps onto, in catalog
	// order.
	Controls []Control
}

// Control is one framework control a rule maps onto.
type Control struct {
	// Framework and Version are the catalog's IDs ("cis-aws", "5.0.0");
	// FrameworkName is the framework's own name.
	Framework     string
	FrameworkName string
	Version       string
	// ID and Title are the control's, as the framework numbers and names it.
	ID    string
	Title string
	// Coverage is "full" when the rule decides the control alone,
	// "partial" when part of it needs a person.
	Coverage string
}

// Standard names a control's framework version, as "CIS AWS Foundations
// Benchmark 5.0.0".
func (c Control) Standard() string { return c.FrameworkName + " " + c.Version }

// AccountNames maps each account's ID to its name, as the document's
// accounts give it: the name writers show beside a result, rather than
// the one the result was evaluated with.
func (d *Document) AccountNames() map[string]string {
	m := make(map[string]string, len(d.Accounts))
	for _, a := range d.Accounts {
		m[a.AccountID] = a.Name
	}
	return m
}
