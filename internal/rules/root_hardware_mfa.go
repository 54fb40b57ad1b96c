package rules

import (
	"fmt"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// RootHardwareMFA fails when the root user's MFA is a virtual device. A
// virtual MFA seed lives on a phone or in a password manager, where it can
// be copied or synced away; a hardware token or FIDO security key cannot.
// Any virtual device assigned to root fails the rule, even beside a
// hardware one, because either opens the account.
var RootHardwareMFA = rule.Rule{
	ID:       "root-hardware-mfa",
	Title:    "Root user MFA is virtual, not hardware",
	Severity: rule.High,
	Category: "Security",
	Service:  "iam",
	RootUser: true,
	Check:    checkRootHardwareMFA,
}

func checkRootHardwareMFA(in rule.Input) rule.Outcome {
	a := in.Account
	if isGovCloud(a) {
		return rule.Outcome{Status: rule.NotApplicable, Message: govCloudMFA, Evidence: []rule.Evidence{{Source: "snapshot", Key: "partition", Value: a.Partition}}}
	}
	if none, ev := noRootCredentials(a); none {
		return notApplicableNoCredentials(ev)
	}
	// An exact list of root's devices with their types settles it.
	if inv := a.RootCredentials; inv != nil && inv.MFADevices != nil {
		ev := []rule.Evidence{{Source: srcInventory, Key: "mfa devices", Value: mfaList(inv.MFADevices)}}
		var virtual, unknown []snapshot.MFADevice
		for _, d := range inv.MFADevices {
			switch d.Type {
			case snapshot.MFAVirtual:
				virtual = append(virtual, d)
			case snapshot.MFAUnknown:
				unknown = append(unknown, d)
			}
		}
		switch {
		case len(inv.MFADevices) == 0:
			return rule.Outcome{Status: rule.Fail, Evidence: ev, Message: "The root user has no MFA device at all, so it has no hardware MFA (see root-mfa)."}
		case len(virtual) > 0:
			return rule.Outcome{Status: rule.Fail, Evidence: ev, Message: fmt.Sprintf("The root user has %s: %s.", rule.Plural(len(virtual), "virtual MFA device", "virtual MFA devices"), mfaList(virtual))}
		case len(unknown) > 0:
			return rule.Outcome{Status: rule.Unknown, Evidence: ev, Message: "The type of the root user's MFA device could not be told from its serial: " + mfaList(unknown) + "."}
		}
		return rule.Outcome{Status: rule.Pass, Evidence: ev, Message: "Every root MFA device is a hardware token or FIDO security key: " + mfaList(inv.MFADevices) + "."}
	}

	st := rootMFA(in)
	if !st.known {
		msg := "Cannot tell whether the root user has MFA (" + gapText(a, snapshot.SectionSummary, snapshot.SectionCredentialReport) + ")."
		if st.note != "" {
			msg = st.note + "."
		}
		return rule.Outcome{Status: rule.Unknown, Message: msg, Evidence: st.evidence}
	}
	if !st.enabled {
		return rule.Outcome{Status: rule.Fail, Evidence: st.evidence, Message: "The root user has no MFA device at all (" + st.source + "), so it has no hardware MFA (see root-mfa)."}
	}
	v := a.RootVirtualMFA
	if v == nil {
		ev := append(st.evidence, gapEvidence(a, snapshot.SectionRootVirtualMFA)...)
		return rule.Outcome{Status: rule.Unknown, Evidence: ev,
			Message: "The root user has MFA, but whether it is virtual is unknown: the virtual MFA device list could not be read (" + gapText(a, snapshot.SectionRootVirtualMFA) + ")."}
	}
	ev := append(st.evidence, rule.Evidence{Source: srcVirtual, Key: "devices assigned to " + a.RootARN(), Value: mfaList(v.Devices)})
	if len(v.Devices) > 0 {
		return rule.Outcome{Status: rule.Fail, Evidence: ev,
			Message: fmt.Sprintf("The root user's MFA is virtual: %s is assigned to %s.", mfaList(v.Devices), a.RootARN())}
	}
	return rule.Outcome{Status: rule.Pass, Evidence: ev,
		Message: "The root user has MFA (" + st.source + ") and no virtual MFA device is assigned to it, so its MFA is a hardware token or FIDO security key." + st.note}
}
