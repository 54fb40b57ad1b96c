package fix

// Case is why an account's root credentials need a person, and so which
// steps of the knowledge base apply.
type Case string

// Cases.
const (
	// CaseOwnAccount: a standalone or management account reached with an
	// IAM user or role. Only the account's root user can remove its
	// credentials.
	CaseOwnAccount Case = "root-user-only"
	// CaseManagementUnreachable: the management account, seen from the
	// IAM delegated administrator, which cannot act in it at all.
	CaseManagementUnreachable Case = "management-account-not-reachable"
	// CaseTemporaryRoot: signed as root, but with temporary credentials,
	// not one of root's own access keys.
	CaseTemporaryRoot Case = "temporary-root-credentials"
	// CaseGovCloud: an AWS GovCloud (US) account reached with an IAM
	// principal: its root user cannot sign in to the console, so only its
	// own access keys can remove them.
	CaseGovCloud Case = "govcloud-root-keys"
	// CaseCentralOff: a member account of an organisation that does not
	// manage root credentials centrally.
	CaseCentralOff Case = "central-root-access-off"
	// CaseAssumeRootRefused: sts:AssumeRoot was refused for the account.
	CaseAssumeRootRefused Case = "assume-root-refused"
	// CaseMemberFromInside: a member account reached from inside (its own
	// IAM principal): the management account can remove its root
	// credentials centrally.
	CaseMemberFromInside Case = "member-account-from-inside"
)

// Manual is why Vigil cannot remove an account's root credentials.
type Manual struct {
	Case Case   `json:"case"`
	Why  string `json:"why"`
}

// Section names a section of a knowledge base page: the rule whose page
// it is, and the headings from the page's top down to it.
type Section struct {
	Page    string
	Heading []string
}

// Steps are the knowledge base sections that say how to do by hand what
// Vigil could not, for each case: what to check before deleting, then the
// procedure for the kind of account. The Go SDK versions are left to the
// page itself (vigil explain root-access-key); a test checks that every
// section exists.
func (c Case) Steps() []Section {
	before := Section{"root-access-key", []string{"Remediation", "Before you delete"}}
	own := func(sub string) Section {
		return Section{"root-access-key", []string{"Remediation", "Standalone or management account", sub}}
	}
	member := func(sub string) Section {
		return Section{"root-access-key", []string{"Remediation", "Organizations member accounts", sub}}
	}
	switch c {
	case CaseOwnAccount, CaseManagementUnreachable, CaseTemporaryRoot:
		return []Section{before, own("Console"), own("AWS CLI")}
	case CaseGovCloud:
		return []Section{before, own("AWS CLI")}
	case CaseCentralOff:
		return []Section{{"root-access-key", []string{"Prevention", "Centralised root access"}}, before, member("Console"), member("AWS CLI")}
	case CaseAssumeRootRefused, CaseMemberFromInside:
		return []Section{before, member("Console"), member("AWS CLI")}
	}
	return nil
}

// Title is a one-line name of the case, for the manual steps' heading.
func (c Case) Title() string {
	switch c {
	case CaseOwnAccount:
		return "only the account's root user can remove them"
	case CaseManagementUnreachable:
		return "the management account, which the delegated administrator cannot reach"
	case CaseTemporaryRoot:
		return "signed as root with temporary credentials"
	case CaseGovCloud:
		return "AWS GovCloud (US): only root's own access keys can remove them"
	case CaseCentralOff:
		return "member accounts of an organisation without centralised root access"
	case CaseAssumeRootRefused:
		return "member accounts where sts:AssumeRoot was refused"
	case CaseMemberFromInside:
		return "member accounts reached from inside"
	}
	return string(c)
}

// Cases lists every case, for tests and docs.
func Cases() []Case {
	return []Case{CaseOwnAccount, CaseManagementUnreachable, CaseTemporaryRoot, CaseGovCloud, CaseCentralOff, CaseAssumeRootRefused, CaseMemberFromInside}
}
