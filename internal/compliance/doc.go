// Package compliance owns Vigil's compliance catalog and compliance
// assessments: which frameworks and versions exist, which of their controls
// concern the account root user, which Vigil rules decide each control, and
// what a scan's results mean for each control.
//
// The catalog is data, embedded from catalog/: one YAML file per framework
// (its versions and controls, with IDs and titles), one per rule (the
// controls the rule maps to, with the source of each mapping), and the list
// of sources. Mappings point one way, from a rule to controls; the reverse
// index is computed. Each framework lists the controls in Vigil's scope
// (those about the root user, account contacts and root monitoring),
// including controls no rule automates, so that coverage figures are honest.
//
// A mapping is "full" when the rule decides the control on its own and
// "partial" when the rule checks part of it and the rest needs a person; a
// mapping that no published source makes is marked as Vigil's own and
// carries its rationale.
package compliance
