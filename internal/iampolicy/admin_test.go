package iampolicy

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestAdmin(t *testing.T) {
	cases := []struct {
		name        string
		doc         string
		grants      []int
		conditional []int
		self        []int
		notAction   []int
		denies      []int
		cancelled   int
	}{
		{"star on star", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, []int{0}, nil, nil, nil, nil, -1},
		{"star colon star in a list", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","*:*"],"Resource":["arn:aws:s3:::b","*"]}]}`, []int{0}, nil, nil, nil, nil, -1},
		{"every ARN pattern", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:*:*:*:*:*"}]}`, []int{0}, nil, nil, nil, nil, -1},
		{"S3-shaped ARN pattern is not every resource", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:*:*:::*"}]}`, nil, nil, nil, nil, nil, -1},
		{"service wildcard is not admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`, nil, nil, nil, nil, nil, -1},
		{"star on one bucket is not admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::bucket/*"}]}`, nil, nil, nil, nil, nil, -1},
		{"a wildcard prefix is not every action", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s*","Resource":"*"}]}`, nil, nil, nil, nil, nil, -1},
		// PowerUserAccess: all but IAM, Organizations and Account.
		{"NotAction with real actions is all-but, not admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}]}`, nil, nil, nil, []int{0}, nil, -1},
		// Allowing everything except an action that cannot exist.
		{"NotAction of nothing is admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"nothing","Resource":"*"}]}`, []int{0}, nil, nil, nil, nil, -1},
		// All but one action: IAM policy writes stay allowed, so the
		// holder can grant itself the rest.
		{"NotAction leaving IAM policy writes is admin in effect", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:DeleteUser","fakesvc:Nothing"],"Resource":"*"}]}`, []int{0}, nil, []int{0}, nil, nil, -1},
		{"NotAction excluding only some IAM policy writes is admin in effect", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:Put*","iam:Attach*"],"Resource":"*"}]}`, []int{0}, nil, []int{0}, nil, nil, -1},
		{"NotResource of nothing is every resource", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","NotResource":"none"}]}`, []int{0}, nil, nil, nil, nil, -1},
		{"NotResource of a bucket is not every resource", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","NotResource":"arn:aws:s3:::secret"}]}`, nil, nil, nil, nil, nil, -1},
		{"conditional grant still counts", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`, []int{0}, []int{0}, nil, nil, nil, -1},
		{"deny everything cancels", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*"}]}`, nil, nil, nil, nil, nil, 1},
		{"conditional deny everything does not cancel", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, []int{0}, nil, nil, nil, []int{1}, -1},
		{"partial deny keeps the grant", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":"s3:*","Resource":"*"}]}`, []int{0}, nil, nil, nil, []int{1}, -1},
		{"deny alone grants nothing", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, nil, nil, nil, nil, nil, 0},
		{"single statement object", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, []int{0}, nil, nil, nil, nil, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// As IAM stored it: no validation (IAM accepts "*:*" and
			// unknown service prefixes).
			var d Document
			if err := json.Unmarshal([]byte(c.doc), &d); err != nil {
				t.Fatal(err)
			}
			got := d.Admin()
			if !slices.Equal(got.Grants, c.grants) || !slices.Equal(got.Conditional, c.conditional) || !slices.Equal(got.SelfGrant, c.self) ||
				!slices.Equal(got.NotActionStatements, c.notAction) || !slices.Equal(got.PartialDenies, c.denies) || got.Cancelled != c.cancelled {
				t.Errorf("Admin() = %+v, want grants %v conditional %v self %v notAction %v denies %v cancelled %d", got, c.grants, c.conditional, c.self, c.notAction, c.denies, c.cancelled)
			}
		})
	}
}

func TestServiceWildcards(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []ServiceWildcard
	}{
		{"a whole service", `{"Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:*"],"Resource":"arn:aws:s3:::b/*"}]}`, []ServiceWildcard{{Statement: 0, Patterns: []string{"s3:*"}}}},
		{"every service", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, []ServiceWildcard{{Statement: 0, Patterns: []string{"*"}}}},
		{"a prefix is not the whole service", `{"Statement":[{"Effect":"Allow","Action":["s3:Get*","iam:List*"],"Resource":"*"}]}`, nil},
		{"NotAction allows whole services", `{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`, []ServiceWildcard{{Statement: 0, NotAction: true}}},
		{"a Deny grants nothing", `{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"},{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}`, nil},
		{"second statement", `{"Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"},{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`, []ServiceWildcard{{Statement: 1, Patterns: []string{"kms:*"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d Document
			if err := json.Unmarshal([]byte(c.doc), &d); err != nil {
				t.Fatal(err)
			}
			got := d.ServiceWildcards()
			if len(got) != len(c.want) {
				t.Fatalf("ServiceWildcards() = %+v, want %+v", got, c.want)
			}
			for i := range got {
				if got[i].Statement != c.want[i].Statement || got[i].NotAction != c.want[i].NotAction || !slices.Equal(got[i].Patterns, c.want[i].Patterns) {
					t.Errorf("ServiceWildcards()[%d] = %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
}
