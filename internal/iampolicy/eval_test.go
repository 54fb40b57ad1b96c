package iampolicy

import (
	"slices"
	"testing"
)

const acct = "444455556666"

var rootARN = "arn:aws:iam::" + acct + ":root"

// rootRequest is a request signed by the member account's root user, in
// its own session (AssumeRoot false) or an AssumeRoot session.
func rootRequest(action, resource string, assumeRoot bool) Request {
	r := Request{Action: action, Resource: resource, Context: map[string][]string{
		"aws:PrincipalArn": {rootARN}, "aws:PrincipalAccount": {acct},
	}}
	if assumeRoot {
		r.Context["aws:AssumedRoot"] = []string{"true"}
	} else {
		r.Absent = []string{"aws:AssumedRoot"}
	}
	return r
}

func mustParse(t *testing.T, doc string) *Document {
	t.Helper()
	d, err := Parse([]byte(doc), SCP)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDenies(t *testing.T) {
	const exempt = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"},"Null":{"aws:AssumedRoot":"true"}}}]}`
	const noExempt = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`
	const keysOnly = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::*:root"}]}`
	const regional = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"},"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}`
	const oneAccount = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::999988887777:root"}}}]}`
	const exemptAccount = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"},"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::444455556666:*"}}}]}`
	const notAction = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["iam:Get*","iam:List*"],"Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`
	const allow = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	const variable = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::${aws:PrincipalAccount}:root"}]}`
	const ifExists = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"},"BoolIfExists":{"aws:AssumedRoot":"false"}}}]}`
	const govOnly = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws-us-gov:iam::*:root"}}}]}`
	const caseInsensitive = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"IAM:createaccesskey","Resource":"*","Condition":{"ArnLike":{"AWS:PRINCIPALARN":"arn:aws:iam::*:root"}}}]}`

	cases := []struct {
		name  string
		doc   string
		req   Request
		want  Verdict
		stmts []int
		keys  []string
	}{
		{"exempt policy denies root's own key creation", exempt, rootRequest("iam:CreateAccessKey", rootARN, false), Match, []int{0}, nil},
		{"exempt policy lets AssumeRoot delete keys", exempt, rootRequest("iam:DeleteAccessKey", rootARN, true), NoMatch, nil, nil},
		{"no exemption blocks AssumeRoot", noExempt, rootRequest("iam:DeleteAccessKey", rootARN, true), Match, []int{0}, nil},
		{"keys-only policy denies CreateAccessKey on root", keysOnly, rootRequest("iam:CreateAccessKey", rootARN, false), Match, []int{0}, nil},
		{"keys-only policy does not deny other actions", keysOnly, rootRequest("ec2:RunInstances", "arn:aws:ec2:us-east-1:444455556666:instance/i-1", false), NoMatch, nil, nil},
		{"keys-only policy leaves IAM users' keys alone", keysOnly, rootRequest("iam:CreateAccessKey", "arn:aws:iam::444455556666:user/bob", false), NoMatch, nil, nil},
		{"a condition on an undescribed key is unknown", regional, rootRequest("iam:CreateAccessKey", rootARN, false), Unknown, nil, []string{"aws:RequestedRegion"}},
		{"another account's root ARN does not match", oneAccount, rootRequest("iam:CreateAccessKey", rootARN, false), NoMatch, nil, nil},
		{"ArnNotLike exemption of this account", exemptAccount, rootRequest("iam:CreateAccessKey", rootARN, false), NoMatch, nil, nil},
		{"NotAction covers what it does not list", notAction, rootRequest("iam:CreateAccessKey", rootARN, false), Match, []int{0}, nil},
		{"NotAction exempts what it lists", notAction, rootRequest("iam:GetUser", rootARN, false), NoMatch, nil, nil},
		{"allow statements never deny", allow, rootRequest("iam:CreateAccessKey", rootARN, false), NoMatch, nil, nil},
		{"policy variables are substituted", variable, rootRequest("iam:CreateAccessKey", rootARN, false), Match, []int{0}, nil},
		{"a variable the request lacks is unknown", variable, Request{Action: "iam:CreateAccessKey", Resource: rootARN}, Unknown, nil, []string{"aws:PrincipalAccount"}},
		{"IfExists holds when the key is absent", ifExists, rootRequest("iam:CreateAccessKey", rootARN, false), Match, []int{0}, nil},
		{"IfExists compares when the key is present", ifExists, rootRequest("iam:CreateAccessKey", rootARN, true), NoMatch, nil, nil},
		{"another partition's ARN does not match", govOnly, rootRequest("iam:CreateAccessKey", rootARN, false), NoMatch, nil, nil},
		{"actions and keys are case-insensitive", caseInsensitive, rootRequest("iam:CreateAccessKey", rootARN, false), Match, []int{0}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := mustParse(t, c.doc)
			dec, stmts := d.Denies(c.req)
			if dec.Verdict != c.want {
				t.Fatalf("verdict %s, want %s (unknown keys %v)", dec.Verdict, c.want, dec.UnknownKeys)
			}
			if !slices.Equal(stmts, c.stmts) {
				t.Errorf("statements %v, want %v", stmts, c.stmts)
			}
			if !slices.Equal(dec.UnknownKeys, c.keys) {
				t.Errorf("unknown keys %v, want %v", dec.UnknownKeys, c.keys)
			}
		})
	}
}

func TestNegatedOperatorOnAbsentKey(t *testing.T) {
	// AWS evaluates a negated operator on a missing key as true: this is why
	// "StringNotEquals aws:PrincipalOrgID" also denies requests without it.
	d := mustParse(t, `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-aa111bb222"}}}]}`)
	dec, _ := d.Denies(Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Absent: []string{"aws:PrincipalOrgID"}})
	if dec.Verdict != Match {
		t.Errorf("verdict %s, want match", dec.Verdict)
	}
	d = mustParse(t, `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-aa111bb222"}}}]}`)
	dec, _ = d.Denies(Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Absent: []string{"aws:PrincipalOrgID"}})
	if dec.Verdict != NoMatch {
		t.Errorf("verdict %s, want no match", dec.Verdict)
	}
}

func TestGlobMatch(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*root", "arn:aws:iam::1:root", true},
		{"**x", "yyx", true},
		{"abc", "ABC", false},
	} {
		if got := globMatch(c.p, c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v", c.p, c.s, got)
		}
	}
	// ArnLike never lets a wildcard cross a colon.
	if arnMatch("arn:aws:iam::*", "arn:aws:iam::1:root") {
		t.Error("a five-part pattern matched a six-part ARN")
	}
	if !arnMatch("arn:*:iam::*:root", "arn:aws-cn:iam::123456789012:root") {
		t.Error("partition wildcard did not match")
	}
	if arnMatch("arn:aws:iam::*:root", "arn:aws:iam::123456789012:user/root") {
		t.Error("a user named root matched the root user's ARN")
	}
}
