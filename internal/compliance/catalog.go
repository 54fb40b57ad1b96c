package compliance

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed catalog
var embedded embed.FS

// Catalog is the whole compliance catalog.
type Catalog struct {
	Frameworks []*Framework
	Sources    []Source
	// Mappings are sorted by rule, framework (catalog order), version
	// (oldest first) and control (catalog order).
	Mappings []Mapping
}

// Framework is a compliance framework, standard or regulation.
type Framework struct {
	ID        string     `yaml:"id" json:"id"`
	Name      string     `yaml:"name" json:"name"`
	Publisher string     `yaml:"publisher" json:"publisher"`
	URL       string     `yaml:"url" json:"url"`
	Scope     string     `yaml:"scope" json:"scope"`
	Notes     string     `yaml:"notes,omitempty" json:"notes,omitempty"`
	Versions  []*Version `yaml:"versions" json:"versions"`
}

// Latest is the newest version: versions are listed oldest first.
func (f *Framework) Latest() *Version { return f.Versions[len(f.Versions)-1] }

// Version is one version of a framework and the controls of it in Vigil's
// scope.
type Version struct {
	Framework *Framework `yaml:"-" json:"-"`
	Version   string     `yaml:"version" json:"version"`
	// Aliases are other names of the same version, e.g. "4.0.1" for PCI
	// DSS 4.0, whose requirement numbers did not change.
	Aliases  []string   `yaml:"aliases,omitempty" json:"aliases,omitempty"`
	Note     string     `yaml:"note,omitempty" json:"note,omitempty"`
	Controls []*Control `yaml:"controls" json:"controls"`
}

// Spec is the "framework:version" form the command line accepts.
func (v *Version) Spec() string { return v.Framework.ID + ":" + v.Version }

// Control finds a control of this version by ID.
func (v *Version) Control(id string) (*Control, bool) {
	for _, c := range v.Controls {
		if c.ID == id {
			return c, true
		}
	}
	return nil, false
}

// Control is one control, requirement or recommendation.
type Control struct {
	ID    string `yaml:"id" json:"id"`
	Title string `yaml:"title" json:"title"`
	// Section, Level and Assessment are what the framework itself says,
	// where known (CIS: "Level 2", "Automated" or "Manual").
	Section    string `yaml:"section,omitempty" json:"section,omitempty"`
	Level      string `yaml:"level,omitempty" json:"level,omitempty"`
	Assessment string `yaml:"assessment,omitempty" json:"assessment,omitempty"`
	Note       string `yaml:"note,omitempty" json:"note,omitempty"`
	// Manual is what an auditor checks by hand when no rule of Vigil's
	// decides the control (a manual CIS item, or one Vigil does not
	// automate yet); reports show it beside the MANUAL outcome.
	Manual string `yaml:"manual,omitempty" json:"manual,omitempty"`
}

// Source is where mappings come from.
type Source struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
	URL  string `yaml:"url" json:"url"`
}

// SourceRef cites a source for one mapping; Ref says where in it.
type SourceRef struct {
	ID  string `yaml:"id" json:"id"`
	Ref string `yaml:"ref,omitempty" json:"ref,omitempty"`
}

// Coverage says how much of a control a rule decides.
type Coverage string

// The kinds of mapping.
const (
	// Full: the rule decides the control on its own.
	Full Coverage = "full"
	// Partial: the rule checks part of the control; the rest needs a
	// person (Mapping.Manual says what).
	Partial Coverage = "partial"
	// Evidence: the control is for a person to judge (a manual CIS
	// item), and the rule shows what Vigil read for it. Its PASS never
	// passes the control, which stays MANUAL; its FAIL or UNKNOWN (a
	// call denied) does reach the control, so what Vigil could not read
	// is never shown as settled. The control's own manual text says what
	// the person checks.
	Evidence Coverage = "evidence"
)

// Mapping links one rule to one control of one framework version.
type Mapping struct {
	Rule      string      `json:"rule"`
	Framework string      `json:"framework"`
	Version   string      `json:"version"`
	Control   string      `json:"control"`
	Coverage  Coverage    `json:"coverage"`
	Manual    string      `json:"manual_check,omitempty"`
	Sources   []SourceRef `json:"sources"`
	Rationale string      `json:"rationale,omitempty"`
}

// mappingFile is the on-disk shape: one file per rule, entries grouping
// controls that share framework, version, coverage and sources.
type mappingFile struct {
	Rule     string `yaml:"rule"`
	Mappings []struct {
		Framework string      `yaml:"framework"`
		Version   string      `yaml:"version"`
		Controls  []string    `yaml:"controls"`
		Coverage  Coverage    `yaml:"coverage"`
		Manual    string      `yaml:"manual"`
		Sources   []SourceRef `yaml:"sources"`
		Rationale string      `yaml:"rationale"`
	} `yaml:"mappings"`
}

var (
	defaultOnce    sync.Once
	defaultCatalog *Catalog
	defaultErr     error
)

// Default loads the embedded catalog once, checking it against the rule IDs
// given on the first call.
func Default(ruleIDs []string) (*Catalog, error) {
	defaultOnce.Do(func() {
		defaultCatalog, defaultErr = Load(embedded, ruleIDs)
	})
	return defaultCatalog, defaultErr
}

// Load reads a catalog laid out like the embedded one (catalog/sources.yaml,
// catalog/frameworks/*.yaml, catalog/mappings/*.yaml) and validates it.
// Errors name the file and, for YAML errors, the line.
func Load(fsys fs.FS, ruleIDs []string) (*Catalog, error) {
	c := &Catalog{}
	if err := decodeFile(fsys, "catalog/sources.yaml", &c.Sources); err != nil {
		return nil, err
	}
	fwFiles, err := fs.Glob(fsys, "catalog/frameworks/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("compliance catalog: %w", err)
	}
	for _, name := range fwFiles {
		var f Framework
		if err := decodeFile(fsys, name, &f); err != nil {
			return nil, err
		}
		if want := strings.TrimSuffix(path.Base(name), ".yaml"); f.ID != want {
			return nil, fmt.Errorf("compliance catalog %s: id %q does not match the file name", name, f.ID)
		}
		for _, v := range f.Versions {
			if v != nil {
				v.Framework = &f
			}
		}
		c.Frameworks = append(c.Frameworks, &f)
	}
	sort.SliceStable(c.Frameworks, func(i, j int) bool { return frameworkRank(c.Frameworks[i].ID) < frameworkRank(c.Frameworks[j].ID) })

	mapFiles, err := fs.Glob(fsys, "catalog/mappings/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("compliance catalog: %w", err)
	}
	for _, name := range mapFiles {
		var mf mappingFile
		if err := decodeFile(fsys, name, &mf); err != nil {
			return nil, err
		}
		if want := strings.TrimSuffix(path.Base(name), ".yaml"); mf.Rule != want {
			return nil, fmt.Errorf("compliance catalog %s: rule %q does not match the file name", name, mf.Rule)
		}
		for i, m := range mf.Mappings {
			cov := m.Coverage
			if cov == "" {
				cov = Full
			}
			if len(m.Controls) == 0 {
				return nil, fmt.Errorf("compliance catalog %s: mapping %d (%s %s) lists no controls", name, i+1, m.Framework, m.Version)
			}
			for _, ctl := range m.Controls {
				c.Mappings = append(c.Mappings, Mapping{
					Rule: mf.Rule, Framework: m.Framework, Version: m.Version, Control: ctl,
					Coverage: cov, Manual: strings.TrimSpace(m.Manual), Sources: m.Sources, Rationale: strings.TrimSpace(m.Rationale),
				})
			}
		}
	}
	if err := c.validate(ruleIDs); err != nil {
		return nil, err
	}
	c.sortMappings()
	return c, nil
}

// frameworkOrder is the order frameworks are listed in: AWS-specific
// benchmarks first, then the standards and regulations. Frameworks not
// named here follow, by ID.
var frameworkOrder = []string{"cis-aws", "aws-fsbp", "aws-security-hub", "aws-well-architected", "pci-dss", "hipaa", "iso-27001", "soc2",
	"nist-800-53", "nist-csf", "fedramp-low", "fedramp-moderate", "gdpr", "hitrust-csf",
	// Last: ASFF keeps the first 32 related requirements, and adding it
	// earlier pushed root-access-key's NIST CSF 2.0 and FedRAMP rev5 out.
	"nist-800-171"}

func frameworkRank(id string) string {
	if i := slices.Index(frameworkOrder, id); i >= 0 {
		return fmt.Sprintf("%03d", i)
	}
	return "zzz" + id
}

// decodeFile decodes one YAML file strictly: unknown fields are errors, so
// a misspelt key cannot silently drop a mapping.
func decodeFile(fsys fs.FS, name string, into any) error {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("compliance catalog: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("compliance catalog %s: %s", name, yamlErrorText(err))
	}
	return nil
}

// yamlErrorText shortens yaml.v3 errors to "line N: what", dropping the Go
// type names the decoder appends, which mean nothing to whoever edits the
// data file.
func yamlErrorText(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var parts []string
		for _, e := range te.Errors {
			if i := strings.Index(e, " in type "); i >= 0 {
				e = e[:i]
			}
			parts = append(parts, e)
		}
		return strings.Join(parts, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

var (
	slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	// Version strings appear in "framework:version" arguments and in
	// file names, so they are kept to a small alphabet.
	versionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9./-]*$`)
)

func (c *Catalog) validate(ruleIDs []string) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	sources := map[string]bool{}
	for _, s := range c.Sources {
		switch {
		case !slugPattern.MatchString(s.ID):
			bad("source %q: id is not a lower-case slug", s.ID)
		case sources[s.ID]:
			bad("source %q listed twice", s.ID)
		}
		if s.Name == "" || s.URL == "" {
			bad("source %q: name and url are required", s.ID)
		}
		sources[s.ID] = true
	}

	seenFW := map[string]bool{}
	for _, f := range c.Frameworks {
		if !slugPattern.MatchString(f.ID) {
			bad("framework %q: id is not a lower-case slug", f.ID)
		}
		if seenFW[f.ID] {
			bad("framework %q listed twice", f.ID)
		}
		seenFW[f.ID] = true
		if f.Name == "" || f.Publisher == "" || f.URL == "" || strings.TrimSpace(f.Scope) == "" {
			bad("framework %s: name, publisher, url and scope are required", f.ID)
		}
		if len(f.Versions) == 0 {
			bad("framework %s: no versions", f.ID)
		}
		names := map[string]bool{}
		for _, v := range f.Versions {
			if v == nil {
				bad("framework %s: empty version entry", f.ID)
				continue
			}
			for _, n := range append([]string{v.Version}, v.Aliases...) {
				if !versionPattern.MatchString(n) {
					bad("framework %s: version %q has characters outside [A-Za-z0-9./-]", f.ID, n)
				}
				if names[n] {
					bad("framework %s: version %q listed twice", f.ID, n)
				}
				names[n] = true
			}
			if len(v.Controls) == 0 {
				bad("framework %s version %s: no controls", f.ID, v.Version)
			}
			ids := map[string]bool{}
			for _, ctl := range v.Controls {
				if ctl == nil || strings.TrimSpace(ctl.ID) == "" || strings.TrimSpace(ctl.Title) == "" {
					bad("framework %s version %s: a control lacks an id or a title", f.ID, v.Version)
					continue
				}
				if ids[ctl.ID] {
					bad("framework %s version %s: control %s listed twice", f.ID, v.Version, ctl.ID)
				}
				ids[ctl.ID] = true
			}
		}
	}

	rules := map[string]bool{}
	for _, id := range ruleIDs {
		rules[id] = true
	}
	type key struct{ rule, fw, ver, ctl string }
	seen := map[key]bool{}
	for _, m := range c.Mappings {
		where := fmt.Sprintf("mapping %s → %s %s %s", m.Rule, m.Framework, m.Version, m.Control)
		if !rules[m.Rule] {
			bad("%s: no rule %q", where, m.Rule)
		}
		v, ok := c.exactVersion(m.Framework, m.Version)
		if !ok {
			bad("%s: no such framework version", where)
		} else if _, ok := v.Control(m.Control); !ok {
			bad("%s: the framework version has no such control", where)
		}
		k := key{m.Rule, m.Framework, m.Version, m.Control}
		if seen[k] {
			bad("%s: mapped twice", where)
		}
		seen[k] = true
		switch m.Coverage {
		case Full:
			if m.Manual != "" {
				bad("%s: a full mapping cannot need a manual check", where)
			}
		case Partial:
			if m.Manual == "" {
				bad("%s: a partial mapping must say what remains to check by hand (manual)", where)
			}
		case Evidence:
			if m.Manual != "" {
				bad("%s: an evidence mapping leaves the control to a person; its manual text is the control's own", where)
			}
		default:
			bad("%s: coverage %q: want full, partial or evidence", where, m.Coverage)
		}
		if len(m.Sources) == 0 {
			bad("%s: no source", where)
		}
		for _, s := range m.Sources {
			if !sources[s.ID] {
				bad("%s: unknown source %q", where, s.ID)
			}
			if s.ID == "vigil" && m.Rationale == "" {
				bad("%s: a mapping of Vigil's own needs a rationale", where)
			}
		}
	}
	return errors.Join(errs...)
}

func (c *Catalog) sortMappings() {
	fwIndex := map[string]int{}
	for i, f := range c.Frameworks {
		fwIndex[f.ID] = i
	}
	pos := func(m Mapping) (int, int, int) {
		f := c.Frameworks[fwIndex[m.Framework]]
		vi := slices.IndexFunc(f.Versions, func(v *Version) bool { return v.Version == m.Version })
		ci := slices.IndexFunc(f.Versions[vi].Controls, func(ctl *Control) bool { return ctl.ID == m.Control })
		return fwIndex[m.Framework], vi, ci
	}
	sort.SliceStable(c.Mappings, func(i, j int) bool {
		a, b := c.Mappings[i], c.Mappings[j]
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		af, av, ac := pos(a)
		bf, bv, bc := pos(b)
		if af != bf {
			return af < bf
		}
		if av != bv {
			return av < bv
		}
		return ac < bc
	})
}

// Framework finds a framework by ID.
func (c *Catalog) Framework(id string) (*Framework, bool) {
	for _, f := range c.Frameworks {
		if f.ID == id {
			return f, true
		}
	}
	return nil, false
}

func (c *Catalog) exactVersion(framework, version string) (*Version, bool) {
	f, ok := c.Framework(framework)
	if !ok {
		return nil, false
	}
	for _, v := range f.Versions {
		if v.Version == version {
			return v, true
		}
	}
	return nil, false
}

// Source finds a source by ID.
func (c *Catalog) Source(id string) (Source, bool) {
	for _, s := range c.Sources {
		if s.ID == id {
			return s, true
		}
	}
	return Source{}, false
}

// Resolve reads "framework" or "framework:version" as given on the command
// line. Without a version it is the latest; a version may also be given by
// an alias or with a leading "v". The error lists what is valid.
func (c *Catalog) Resolve(spec string) (*Version, error) {
	id, ver, hasVer := strings.Cut(strings.TrimSpace(spec), ":")
	f, ok := c.Framework(strings.ToLower(id))
	if !ok {
		return nil, fmt.Errorf("unknown framework %q; valid: %s", id, c.validList())
	}
	if !hasVer || ver == "" {
		return f.Latest(), nil
	}
	for _, try := range []string{ver, strings.TrimPrefix(strings.TrimPrefix(ver, "v"), "V")} {
		for _, v := range f.Versions {
			if v.Version == try || slices.Contains(v.Aliases, try) {
				return v, nil
			}
		}
	}
	return nil, fmt.Errorf("framework %s has no version %q; valid: %s", f.ID, ver, strings.Join(versionNames(f), ", "))
}

func versionNames(f *Framework) []string {
	var out []string
	for _, v := range f.Versions {
		out = append(out, v.Version)
	}
	return out
}

func (c *Catalog) validList() string {
	var parts []string
	for _, f := range c.Frameworks {
		parts = append(parts, f.ID+" ("+strings.Join(versionNames(f), ", ")+")")
	}
	return strings.Join(parts, "; ")
}

// RuleMappings returns a rule's mappings in catalog order.
func (c *Catalog) RuleMappings(ruleID string) []Mapping {
	var out []Mapping
	for _, m := range c.Mappings {
		if m.Rule == ruleID {
			out = append(out, m)
		}
	}
	return out
}

// ControlMappings returns the mappings onto one control of a version, by
// rule ID.
func (c *Catalog) ControlMappings(v *Version, controlID string) []Mapping {
	var out []Mapping
	for _, m := range c.Mappings {
		if m.Framework == v.Framework.ID && m.Version == v.Version && m.Control == controlID {
			out = append(out, m)
		}
	}
	return out
}

// VersionMappings returns every mapping onto a version.
func (c *Catalog) VersionMappings(v *Version) []Mapping {
	var out []Mapping
	for _, m := range c.Mappings {
		if m.Framework == v.Framework.ID && m.Version == v.Version {
			out = append(out, m)
		}
	}
	return out
}
