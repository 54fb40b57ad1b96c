// Package sarif writes a report as SARIF 2.1.0 (OASIS Static Analysis
// Results Interchange Format), the format GitHub code scanning and other
// security dashboards import.
//
// The mapping, which code-scanning dashboards rely on and which must not
// change between runs:
//
//   - One run, whose driver is Vigil with every rule the document's
//     results name (sorted by ID): title, the knowledge base's risk summary
//     and whole page as help (Markdown and text), a default level from the
//     rule's severity and the "security-severity" GitHub ranks alerts by.
//   - One result per FAIL, its level from the result's severity (critical
//     and high: error, medium: warning, low and info: note), and one per
//     UNKNOWN as a note, since a check that could not decide is something
//     to look at, never a pass. PASS and NOT_APPLICABLE write no result.
//   - Each result's location is the AWS resource: a logical location whose
//     fully qualified name is the ARN (kind "resource"), and a physical
//     location at a synthetic, stable artifact URI built from the ARN
//     ("aws/<partition>/<service>/<account>/<resource>", line 1), because
//     GitHub refuses a result without an artifact. No file of that name
//     exists; the URI only keeps one alert per resource.
//   - partialFingerprints["vigil/v1"] is a SHA-256 of the partition,
//     account, rule and resource: the same finding in the next run carries
//     the same fingerprint, so a dashboard tracks it instead of opening a
//     new alert, and a fixed one closes.
//
// GitHub's limits (25,000 results a run, 10 MB of gzipped SARIF an
// upload) are not enforced here: the file holds every finding, and the
// README says what GitHub does past them (it keeps the 5,000 most severe
// results of a run, and refuses a larger upload) and how to split a scan.
package sarif

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/internal/jsonout"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
)

// SchemaURI is the $schema a SARIF 2.1.0 log names.
const SchemaURI = "https://json.schemastore.org/sarif-2.1.0.json"

// FingerprintKey names Vigil's partial fingerprint; its version changes
// only if what is hashed does.
const FingerprintKey = "vigil/v1"

// Writer writes SARIF. Knowledge supplies each rule's help; a rule it
// does not know gets its title only.
type Writer struct {
	Knowledge report.Knowledge
}

// New returns a SARIF writer.
func New(k report.Knowledge) Writer { return Writer{Knowledge: k} }

type message struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type ruleDescriptor struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     message        `json:"shortDescription"`
	FullDescription      *message       `json:"fullDescription,omitempty"`
	Help                 *message       `json:"help,omitempty"`
	DefaultConfiguration config         `json:"defaultConfiguration"`
	Properties           ruleProperties `json:"properties"`
}

type config struct {
	Level string `json:"level"`
}

type ruleProperties struct {
	SecuritySeverity string   `json:"security-severity,omitempty"`
	Severity         string   `json:"severity"`
	Precision        string   `json:"precision"`
	Tags             []string `json:"tags"`
}

type result struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             message           `json:"message"`
	Locations           []location        `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          resultProperties  `json:"properties"`
}

type location struct {
	PhysicalLocation physicalLocation  `json:"physicalLocation"`
	LogicalLocations []logicalLocation `json:"logicalLocations"`
}

type physicalLocation struct {
	ArtifactLocation artifactLocation `json:"artifactLocation"`
	Region           region           `json:"region"`
}

type artifactLocation struct {
	URI string `json:"uri"`
}

type region struct {
	StartLine int `json:"startLine"`
}

type logicalLocation struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type resultProperties struct {
	Status      string          `json:"vigil-status"`
	Severity    string          `json:"severity"`
	AccountID   string          `json:"account-id"`
	AccountName string          `json:"account-name,omitempty"`
	Evidence    []rule.Evidence `json:"evidence,omitempty"`
}

// Write writes d as one SARIF log.
func (wr Writer) Write(w io.Writer, d *report.Document) error {
	rules, index := wr.rules(d)
	out := jsonout.New(w)
	out.Raw("{\n  \"$schema\": \"" + SchemaURI + "\",\n  \"version\": \"2.1.0\",\n  \"runs\": [\n    {\n      \"tool\": {\n        \"driver\": ")
	out.Value(driver{Name: "Vigil", Version: d.Tool.Version, InformationURI: "https://github.com/vigil-sec/vigil", Rules: rules}, "        ")
	out.Raw("\n      },\n      \"columnKind\": \"unicodeCodePoints\",\n      \"properties\": ")
	out.Value(runProperties{Schema: d.Schema, Version: d.Version, GeneratedAt: d.GeneratedAt.Format(timeFormat), CollectedAt: d.CollectedAt.Format(timeFormat),
		Accounts: d.Summary.Accounts, Counts: d.Summary.Counts, Incomplete: incomplete(d)}, "      ")
	out.Raw(",\n      \"results\": [")
	names := d.AccountNames()
	first := true
	for i := range d.Results {
		r := &d.Results[i]
		if r.Status != rule.Fail && r.Status != rule.Unknown {
			continue
		}
		if !first {
			out.Raw(",")
		}
		first = false
		// A result a line: indented, 100,000 results would be several
		// times larger and slower to write.
		out.Raw("\n        ")
		out.Compact(wr.result(r, cmp.Or(names[r.AccountID], r.AccountName), index[r.RuleID]))
	}
	if !first {
		out.Raw("\n      ")
	}
	out.Raw("]\n    }\n  ]\n}\n")
	return out.Flush()
}

const timeFormat = "2006-01-02T15:04:05Z07:00"

type driver struct {
	Name           string           `json:"name"`
	Version        string           `json:"version,omitempty"`
	InformationURI string           `json:"informationUri"`
	Rules          []ruleDescriptor `json:"rules"`
}

type runProperties struct {
	Schema      string        `json:"vigil-schema"`
	Version     int           `json:"vigil-version"`
	GeneratedAt string        `json:"generated-at"`
	CollectedAt string        `json:"collected-at"`
	Accounts    int           `json:"accounts"`
	Counts      report.Counts `json:"counts"`
	Incomplete  string        `json:"incomplete,omitempty"`
}

func incomplete(d *report.Document) string {
	if d.Incomplete == nil {
		return ""
	}
	return d.Incomplete.Reason
}

// rules describes every rule the document's results name, sorted by ID,
// and where each is in the list. A rule's metadata is taken from its
// first result; the rule's own severity (not one raised for a management
// account) sets its level.
func (wr Writer) rules(d *report.Document) ([]ruleDescriptor, map[string]int) {
	seen := map[string]rule.Result{}
	for _, r := range d.Results {
		if _, ok := seen[r.RuleID]; !ok {
			seen[r.RuleID] = r
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]ruleDescriptor, 0, len(ids))
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		r := seen[id]
		k := wr.Knowledge[id]
		rd := ruleDescriptor{ID: id, Name: ruleName(id), ShortDescription: message{Text: r.Title},
			DefaultConfiguration: config{Level: level(r.RuleSeverity)},
			Properties: ruleProperties{SecuritySeverity: securitySeverity(r.RuleSeverity), Severity: r.RuleSeverity.String(), Precision: "very-high",
				Tags: tags(r)}}
		if k.Summary != "" {
			rd.FullDescription = &message{Text: k.Summary}
		}
		if k.Help != "" {
			// The page in Markdown; as text, its summary and where the
			// page is (a viewer that cannot render Markdown).
			rd.Help = &message{Text: strings.TrimSpace(k.Summary + "\n\nRun `vigil explain " + id + "` for the whole page."), Markdown: k.Help}
		} else {
			rd.Help = &message{Text: r.Title + "\n\nRun `vigil explain " + id + "` for the risk, the fix and how to prevent it."}
		}
		out = append(out, rd)
		index[id] = i
	}
	return out, index
}

// tags are the rule's category and service, lower case, and "security",
// the tag GitHub requires before it shows a security severity.
func tags(r rule.Result) []string {
	t := []string{"security"}
	for _, s := range []string{r.Category, r.Service} {
		if s = strings.ToLower(s); s != "" && !slices.Contains(t, s) {
			t = append(t, s)
		}
	}
	return t
}

// ruleName is the rule ID in PascalCase ("root-access-key" →
// "RootAccessKey"), SARIF's readable rule name.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// level maps a severity onto SARIF's three levels.
func level(s rule.Severity) string {
	switch {
	case s >= rule.High:
		return "error"
	case s == rule.Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is the score GitHub ranks security alerts by (over 9
// critical, 7 to 8.9 high, 4 to 6.9 medium, 0.1 to 3.9 low); info has
// none, so GitHub shows it without a security severity.
func securitySeverity(s rule.Severity) string {
	switch s {
	case rule.Critical:
		return "9.5"
	case rule.High:
		return "8.0"
	case rule.Medium:
		return "5.5"
	case rule.Low:
		return "3.0"
	}
	return ""
}

func (wr Writer) result(r *rule.Result, accountName string, ruleIndex int) result {
	lvl, text := level(r.Severity), r.Message
	if r.Status == rule.Unknown {
		lvl, text = "note", "Could not be decided: "+r.Message
	}
	// The account leads the message: a dashboard lists alerts by message
	// and location, and the synthetic location does not read as one.
	account := "Account " + r.AccountID
	if accountName != "" {
		account += " (" + accountName + ")"
	}
	text = account + ": " + text
	name := r.Resource
	if i := strings.LastIndexAny(name, ":/"); i >= 0 && i+1 < len(name) {
		name = name[i+1:]
	}
	return result{
		RuleID: r.RuleID, RuleIndex: ruleIndex, Level: lvl,
		Message: message{Text: text},
		Locations: []location{{
			PhysicalLocation: physicalLocation{ArtifactLocation: artifactLocation{URI: ArtifactURI(r)}, Region: region{StartLine: 1}},
			LogicalLocations: []logicalLocation{{Name: name, FullyQualifiedName: cmp.Or(r.Resource, "account/"+r.AccountID), Kind: "resource"}},
		}},
		PartialFingerprints: map[string]string{FingerprintKey: Fingerprint(r)},
		Properties:          resultProperties{Status: string(r.Status), Severity: r.Severity.String(), AccountID: r.AccountID, AccountName: accountName, Evidence: r.Evidence},
	}
}

// ArtifactURI is the synthetic, relative artifact URI of a result's
// resource: "aws/" then the ARN's partition, service, region (when it has
// one), account and resource, each a path-escaped segment. A result whose
// resource is not an ARN is filed under its account.
func ArtifactURI(r *rule.Result) string {
	parts := strings.SplitN(r.Resource, ":", 6)
	segs := []string{"aws"}
	if len(parts) == 6 && parts[0] == "arn" {
		for _, p := range parts[1:5] {
			if p != "" {
				segs = append(segs, url.PathEscape(p))
			}
		}
		for _, p := range strings.Split(parts[5], "/") {
			segs = append(segs, url.PathEscape(p))
		}
	} else {
		segs = append(segs, url.PathEscape(cmp.Or(r.Partition, "aws")), "account", url.PathEscape(r.AccountID))
		if r.Resource != "" {
			segs = append(segs, url.PathEscape(r.Resource))
		}
	}
	return strings.Join(segs, "/")
}

// Fingerprint identifies a finding across runs: the SHA-256 of its
// partition, account, rule and resource. Neither the message nor the
// severity is hashed: they may change while the finding stays the same.
func Fingerprint(r *rule.Result) string {
	h := sha256.New()
	for _, s := range []string{r.Partition, r.AccountID, r.RuleID, r.Resource} {
		io.WriteString(h, s)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
