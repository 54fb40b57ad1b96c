package awsemu

import (
	"bytes"
	"encoding/xml"
	"testing"
	"time"
)

// TestDetailsXMLAsEncoder: the page written by hand is byte for byte what
// encoding/xml writes from detailsResultXML's tags, escapes, empty lists
// and every kind of entity included.
func TestDetailsXMLAsEncoder(t *testing.T) {
	created := time.Date(2024, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
	a := &Account{ID: "111122223333",
		Groups:   []Group{{Name: "admins", AttachedPolicies: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}, InlinePolicies: []InlinePolicy{{Name: "g", Document: `{"Statement":[]}`}}}, {Name: "empty"}},
		Policies: []IAMPolicy{{Name: "odd", Path: "/team/", Document: `{"Version": "2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a+b%c/*"}]}`}},
		Roles: []Role{{Name: "support", AttachedPolicies: []string{"arn:aws:iam::111122223333:policy/team/odd", "arn:aws:iam::aws:policy/AWSSupportAccess"},
			Tags: []Tag{{Key: "owner", Value: "ops & <sec> \"q\" 'a'\t\r\n é \u2028"}}}, {Name: "bare"}},
		Users: []User{{Name: "admin", CreateDate: created, Groups: []string{"admins", "empty"},
			InlinePolicies:   []InlinePolicy{{Name: "inline", Document: `{"Statement":[{"Effect":"Deny","NotAction":"iam:*","Resource":"*"}]}`}},
			AttachedPolicies: []string{"arn:aws:iam::111122223333:policy/team/odd"},
			Tags:             []Tag{{Key: "team", Value: "a+b c"}, {Key: "empty", Value: ""}}}, {Name: "plain"}},
	}
	s := newServer(&World{Accounts: []*Account{a}})
	all := s.authorizationDetails(a, nil)
	for _, marker := range []string{"", "bWFyaw==&<>"} {
		res := detailsResultXML{UserDetailList: members[*userDetailXML]{}, GroupDetailList: members[*groupDetailXML]{}, RoleDetailList: members[*roleDetailXML]{},
			Policies: members[*policyDetailXML]{}, IsTruncated: marker != "", Marker: marker}
		for _, e := range all {
			switch {
			case e.user != nil:
				res.UserDetailList = append(res.UserDetailList, e.user)
			case e.group != nil:
				res.GroupDetailList = append(res.GroupDetailList, e.group)
			case e.role != nil:
				res.RoleDetailList = append(res.RoleDetailList, e.role)
			case e.policy != nil:
				res.Policies = append(res.Policies, e.policy)
			}
		}
		if len(res.UserDetailList) != 2 || len(res.GroupDetailList) != 2 || len(res.RoleDetailList) != 2 || len(res.Policies) != 3 {
			t.Fatalf("entities: %d users, %d groups, %d roles, %d policies", len(res.UserDetailList), len(res.GroupDetailList), len(res.RoleDetailList), len(res.Policies))
		}
		want, err := xml.Marshal(struct {
			XMLName xml.Name `xml:"R"`
			detailsResultXML
		}{detailsResultXML: res})
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		got.WriteString("<R>")
		res.appendXML(&got)
		got.WriteString("</R>")
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("appendXML:\n%s\nencoding/xml:\n%s", got.Bytes(), want)
		}
	}
}
