package iampolicy

import (
	"strings"
	"testing"
)

func TestValidateAccepts(t *testing.T) {
	cases := []struct {
		name string
		kind Kind
		doc  string
	}{
		{"deny root with AssumeRoot exemption", SCP, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*",
			"Condition":{"ArnLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]},"Null":{"aws:AssumedRoot":"true"}}}]}`},
		{"statement as an object, no version", SCP, `{"Statement":{"Effect":"Deny","Action":["iam:CreateAccessKey"],"Resource":"arn:aws:iam::*:root"}}`},
		{"not action and not resource", Identity, `{"Version":"2012-10-17","Statement":[{"Sid":"A1","Effect":"Deny","NotAction":["iam:List*","sts:Get?allerIdentity"],"NotResource":"arn:aws:iam::*:root"}]}`},
		{"set operators and IfExists", SCP, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{
			"ForAnyValue:StringLike":{"aws:TagKeys":["a*"]},"BoolIfExists":{"aws:MultiFactorAuthPresent":false},"NumericLessThan":{"aws:MultiFactorAuthAge":3600}}}]}`},
		{"resource policy with principals", ResourceBased, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sns:Publish","Resource":"arn:aws:sns:us-east-1:111122223333:t",
			"Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:events:us-east-1:111122223333:rule/b/r"}}},{"Effect":"Allow","Principal":"*","Action":"events:PutEvents","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-aa111bb222"}}}]}`},
		{"trust policy without resource", ResourceBased, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["events.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := Validate([]byte(c.doc), Options{Kind: c.kind}); err != nil {
				t.Fatalf("rejected a valid policy: %v", err)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	cases := []struct {
		name string
		kind Kind
		doc  string
		want []string
	}{
		{"not JSON", SCP, `{"Version":`, []string{"not valid JSON"}},
		{"trailing data", SCP, `{"Statement":[]} {}`, []string{"unexpected data"}},
		{"not an object", SCP, `[]`, []string{"must be a JSON object"}},
		{"bad version", SCP, `{"Version":"2012-10-18","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, []string{"Version: must be"}},
		{"lower-case element", SCP, `{"version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, []string{"version: is not a policy element"}},
		{"no statement", SCP, `{"Version":"2012-10-17"}`, []string{"has no Statement"}},
		{"empty statement list", SCP, `{"Statement":[]}`, []string{"Statement: is empty"}},
		{"no effect", SCP, `{"Statement":[{"Action":"*","Resource":"*"}]}`, []string{"Statement[0]: has no Effect"}},
		{"bad effect", SCP, `{"Statement":[{"Effect":"deny","Action":"*","Resource":"*"}]}`, []string{"Effect: must be"}},
		{"action and not action", SCP, `{"Statement":[{"Effect":"Deny","Action":"*","NotAction":"s3:*","Resource":"*"}]}`, []string{"has both Action and NotAction"}},
		{"no action", SCP, `{"Statement":[{"Effect":"Deny","Resource":"*"}]}`, []string{"needs Action or NotAction"}},
		{"no resource", SCP, `{"Statement":[{"Effect":"Deny","Action":"*"}]}`, []string{"needs Resource or NotResource"}},
		{"bad action", SCP, `{"Statement":[{"Effect":"Deny","Action":"CreateAccessKey","Resource":"*"}]}`, []string{`"CreateAccessKey" is not an action`}},
		{"bad resource", SCP, `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"root"}]}`, []string{`"root" is not "*" or an ARN`}},
		{"principal in an SCP", SCP, `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`, []string{"Principal: is not allowed in a service control policy"}},
		{"unknown element", SCP, `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Conditions":{}}]}`, []string{"Conditions: is not a statement element"}},
		{"unknown operator", SCP, `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnMatches":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`, []string{"ArnMatches: is not a condition operator"}},
		{"null with bad value", SCP, `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Null":{"aws:AssumedRoot":"yes"}}}]}`, []string{`Null takes "true" or "false"`}},
		{"null IfExists", SCP, `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NullIfExists":{"aws:AssumedRoot":"true"}}}]}`, []string{"Null takes neither IfExists"}},
		{"bad condition key", SCP, `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"PrincipalArn":"x"}}}]}`, []string{"PrincipalArn: is not a condition key"}},
		{"arn operator on a non-ARN", SCP, `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"root"}}}]}`, []string{`"root" is not one`}},
		{"object condition value", SCP, `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":{"a":"b"}}}}]}`, []string{"condition values must be"}},
		{"duplicate sid", SCP, `{"Statement":[{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}]}`, []string{`"A" is already used by Statement[0]`}},
		{"bad sid", SCP, `{"Statement":[{"Sid":"deny-root","Effect":"Deny","Action":"*","Resource":"*"}]}`, []string{"Sid: must be a string of ASCII letters and digits"}},
		{"resource policy without principal", ResourceBased, `{"Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}]}`, []string{"needs Principal or NotPrincipal"}},
		{"bad principal type", ResourceBased, `{"Statement":[{"Effect":"Allow","Principal":{"Services":"x"},"Action":"sns:Publish"}]}`, []string{"Services: is not a principal type"}},
		{"intrinsic without the option", ResourceBased, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":{"Ref":"Topic"}}]}`, []string{"must be a string or a list of strings"}},
		{"several problems at once", SCP, `{"Statement":[{"Effect":"Maybe","Action":"x","Resource":"y"}]}`, []string{"Effect: must be", `"x" is not an action`, `"y" is not`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Validate([]byte(c.doc), Options{Kind: c.kind})
			if err == nil {
				t.Fatal("accepted a broken policy")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestValidateIntrinsics(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sns:Publish","Resource":{"Ref":"Topic"},
		"Condition":{"ArnEquals":{"aws:SourceArn":{"Fn::GetAtt":["Rule","Arn"]}}}}]}`
	if err := Validate([]byte(doc), Options{Kind: ResourceBased, Intrinsics: true}); err != nil {
		t.Fatal(err)
	}
	// An object that is not an intrinsic is still wrong.
	bad := strings.Replace(doc, `{"Ref":"Topic"}`, `{"Ref":"Topic","Extra":1}`, 1)
	if err := Validate([]byte(bad), Options{Kind: ResourceBased, Intrinsics: true}); err == nil {
		t.Fatal("accepted an object that is not an intrinsic function")
	}
}

func TestSCPSizeLimit(t *testing.T) {
	actions := make([]string, 0, 400)
	for range 400 {
		actions = append(actions, `"ec2:DescribeInstances"`)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":[` + strings.Join(actions, ",") + `],"Resource":"*"}]}`
	err := Validate([]byte(doc), Options{Kind: SCP})
	if err == nil || !strings.Contains(err.Error(), "more than the 5120") {
		t.Fatalf("err = %v, want the size limit", err)
	}
	// The same document is fine as an identity policy (a different limit,
	// not Vigil's concern).
	if err := Validate([]byte(doc), Options{Kind: Identity}); err != nil {
		t.Fatal(err)
	}
	// Whitespace does not count: Vigil minifies before sending.
	small := "{\n  \"Statement\": [ { \"Effect\": \"Deny\", \"Action\": \"*\", \"Resource\": \"*\" } ]" + strings.Repeat(" ", 6000) + "}"
	if err := Validate([]byte(small), Options{Kind: SCP}); err != nil {
		t.Fatalf("whitespace counted against the limit: %v", err)
	}
}

func TestCanonical(t *testing.T) {
	a := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":["*"],"Condition":{"ArnLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]},"Null":{"aws:AssumedRoot":"true"}}}]}`
	b := "{\n \"Statement\": [{\"Condition\": {\"Null\": {\"aws:AssumedRoot\": \"true\"}, \"ArnLike\": {\"aws:PrincipalArn\": \"arn:aws:iam::*:root\"}},\n \"Resource\": \"*\", \"Action\": [\"*\"], \"Effect\": \"Deny\"}], \"Version\": \"2012-10-17\"}"
	ca, err := Canonical([]byte(a))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := Canonical([]byte(b))
	if err != nil {
		t.Fatal(err)
	}
	if ca != cb {
		t.Errorf("equivalent policies differ:\n%s\n%s", ca, cb)
	}
	c := strings.Replace(a, `"true"`, `"false"`, 1)
	cc, _ := Canonical([]byte(c))
	if cc == ca {
		t.Error("different policies compare equal")
	}
}

func FuzzValidate(f *testing.F) {
	f.Add([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`))
	f.Add([]byte(`{"Statement":{"Effect":"Allow","NotAction":["a:b"],"NotResource":["arn:a:b:c:d:e"]}}`))
	f.Add([]byte(`[1, "x", null]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, k := range []Kind{Identity, SCP, ResourceBased} {
			err := Validate(data, Options{Kind: k})
			if err != nil {
				continue
			}
			// Whatever validates must decode and evaluate without panicking.
			d, perr := Parse(data, k)
			if perr != nil {
				t.Fatalf("validated but does not parse: %v", perr)
			}
			d.Denies(Request{Action: "iam:CreateAccessKey", Resource: "arn:aws:iam::111122223333:root",
				Context: map[string][]string{"aws:PrincipalArn": {"arn:aws:iam::111122223333:root"}}})
		}
	})
}
