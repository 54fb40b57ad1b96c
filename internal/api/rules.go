package api

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/vigil-sec/vigil/internal/compliance"
	"github.com/vigil-sec/vigil/internal/kb"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/rules"
)

// Knowledge is the compliance catalog and the knowledge base pages,
// embedded in the binary and loaded once: what the rules and compliance
// routes, and the dashboard's finding page, show of a rule.
type Knowledge struct {
	Catalog *compliance.Catalog
	Pages   []*kb.Page
	// PagesErr is why the pages did not load (a rule without its page
	// in a build between commits): the rules and compliance are still
	// served, without pages.
	PagesErr error
}

var (
	knowledgeOnce sync.Once
	knowledge     Knowledge
	knowledgeErr  error
)

// LoadKnowledge loads the catalog and the pages once. They are checked
// by the tests, so an error is a broken build; the catalog's error is
// returned, the pages' is kept in PagesErr.
func LoadKnowledge() (Knowledge, error) {
	knowledgeOnce.Do(func() {
		var ids []string
		for _, r := range rules.All() {
			ids = append(ids, r.ID)
		}
		cat, err := compliance.Default(ids)
		if err != nil {
			knowledgeErr = fmt.Errorf("load the compliance catalog: %w", err)
			return
		}
		knowledge = Knowledge{Catalog: cat}
		if knowledge.Pages, err = kb.Load(rules.All(), cat); err != nil {
			knowledge.PagesErr = fmt.Errorf("load the knowledge base: %w", err)
		}
	})
	return knowledge, knowledgeErr
}

// Rule is a rule as the API shows it.
type Rule struct {
	ID       string        `json:"id"`
	Title    string        `json:"title"`
	Severity rule.Severity `json:"severity"`
	Category string        `json:"category"`
	Service  string        `json:"service"`
	// Scope is "account" (one answer per account) or "organization".
	Scope string `json:"scope"`
	// Compliance lists the controls the rule maps to, with how much of
	// each it decides and the sources of the mapping.
	Compliance []compliance.Mapping `json:"compliance"`
	// Page is the rule's knowledge base page in Markdown (risk,
	// compliance, cause, remediation, prevention): what `vigil explain`
	// prints. Only GET /api/v1/rules/{id} carries it.
	Page string `json:"page,omitempty"`
}

func toRule(r rule.Rule, k Knowledge) Rule {
	scope := "account"
	if r.Scope == rule.OrganizationScope {
		scope = "organization"
	}
	out := Rule{ID: r.ID, Title: r.Title, Severity: r.Severity, Category: r.Category, Service: r.Service, Scope: scope,
		Compliance: k.Catalog.RuleMappings(r.ID)}
	if out.Compliance == nil {
		out.Compliance = []compliance.Mapping{}
	}
	return out
}

func (a *api) rules(w http.ResponseWriter, r *http.Request) {
	k, err := LoadKnowledge()
	if err != nil {
		a.internal(w, err)
		return
	}
	all := rules.All()
	out := make([]Rule, 0, len(all))
	for _, ru := range all {
		out = append(out, toRule(ru, k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": out})
}

func (a *api) rule(w http.ResponseWriter, r *http.Request) {
	k, err := LoadKnowledge()
	if err != nil {
		a.internal(w, err)
		return
	}
	ru, ok := rules.ByID(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no rule "+strconv.Quote(r.PathValue("id")))
		return
	}
	out := toRule(ru, k)
	if p, ok := kb.Find(k.Pages, ru.ID); ok {
		out.Page = p.Markdown
	} else if k.PagesErr != nil {
		a.cfg.Logger.Error("rule page not served", "rule", ru.ID, "error", k.PagesErr)
	}
	writeJSON(w, http.StatusOK, map[string]any{"rule": out})
}
