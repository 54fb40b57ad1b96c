package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/kb"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
)

// The knowledge base and the compliance catalog are embedded in the binary
// and checked by the tests, so a failure to load them is a broken build,
// reported as a runtime error rather than a panic.

func loadCatalog() (*compliance.Catalog, error) {
	c, err := compliance.Default(ruleIDs())
	if err != nil {
		return nil, fmt.Errorf("load the compliance catalog: %w", err)
	}
	return c, nil
}

func loadPages(c *compliance.Catalog) ([]*kb.Page, error) {
	pages, err := kb.Load(rules.All(), c)
	if err != nil {
		return nil, fmt.Errorf("load the knowledge base: %w", err)
	}
	return pages, nil
}

func ruleIDs() []string {
	var ids []string
	for _, r := range rules.All() {
		ids = append(ids, r.ID)
	}
	return ids
}

// findRule resolves a rule ID given on the command line.
func findRule(id string) (rule.Rule, error) {
	if r, ok := rules.ByID(id); ok {
		return r, nil
	}
	ids := ruleIDs()
	sort.Strings(ids)
	return rule.Rule{}, usagef("unknown rule %q; valid: %s", id, strings.Join(ids, ", "))
}

func rulesByID(id string) (rule.Rule, bool) { return rules.ByID(id) }

// reportKnowledge is what the knowledge base and the compliance catalog
// say about every rule, for the report formats that carry it (SARIF's
// rule help, OCSF's compliance and remediation).
func reportKnowledge() (report.Knowledge, error) {
	cat, pages, err := catalogAndPages()
	if err != nil {
		return nil, err
	}
	return kb.ReportKnowledge(pages, cat), nil
}

// catalogAndPages loads the compliance catalog and the knowledge base
// pages checked against it: what every writer that carries rule
// knowledge starts from.
func catalogAndPages() (*compliance.Catalog, []*kb.Page, error) {
	cat, err := loadCatalog()
	if err != nil {
		return nil, nil, err
	}
	pages, err := loadPages(cat)
	if err != nil {
		return nil, nil, err
	}
	return cat, pages, nil
}
