package awsemu_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
)

// FuzzHandler feeds arbitrary requests to the emulator. Whatever arrives,
// it must not panic and must answer with a well-formed response in the
// protocol the request used.
func FuzzHandler(f *testing.F) {
	f.Add("", "Action=GetAccountSummary&Version=2010-05-08", mgmtRootKey, "iam")
	f.Add("", "Action=ListAccessKeys&Version=2010-05-08&UserName=root&MaxItems=1&Marker=x", memberAliceKey, "iam")
	f.Add("", "Action=AssumeRoot&Version=2011-06-15&TargetPrincipal=444455556666&TaskPolicyArn.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2Froot-task%2FIAMAuditRootUserCredentials", mgmtAdminKey, "sts")
	f.Add("", "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::444455556666:role/a&RoleSessionName=x&DurationSeconds=9e9", mgmtAdminKey, "sts")
	f.Add("", "Action=DeleteAccessKey&Version=2010-05-08&AccessKeyId="+mgmtRootKey, mgmtRootKey, "iam")
	f.Add("AWSOrganizationsV20161128.ListAccounts", `{"MaxResults":3,"NextToken":"YXdzZW11Ok"}`, mgmtAdminKey, "organizations")
	f.Add("AWSOrganizationsV20161128.ListChildren", `{"ParentId":"r-ab12","ChildType":7}`, mgmtAdminKey, "organizations")
	f.Add("AWSOrganizationsV20161128.DescribeAccount", `[1,2]`, "", "organizations")
	f.Add("", "%zz", "AKIA", "")

	srv := awsemu.NewServer(testWorld(), awsemu.WithClock(func() time.Time { return t0 }))
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, target, body, keyID, service string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		if target != "" {
			r.Header.Set("X-Amz-Target", target)
		}
		if keyID != "" {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+keyID+"/20261101/us-east-1/"+service+"/aws4_request, SignedHeaders=host, Signature=0")
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, r)
		if rec.Code < 200 || rec.Code > 599 {
			t.Fatalf("status %d", rec.Code)
		}
		if rec.Header().Get("x-amzn-RequestId") == "" {
			t.Error("no request ID header")
		}
		if target != "" {
			var m map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
				t.Fatalf("JSON response %q: %v", rec.Body, err)
			}
			if rec.Code != 200 && m["__type"] == nil {
				t.Fatalf("JSON error without __type: %s", rec.Body)
			}
			return
		}
		var doc struct {
			XMLName xml.Name
		}
		if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatalf("XML response %q: %v", rec.Body, err)
		}
		isError := doc.XMLName.Local == "ErrorResponse"
		if rec.Code == 200 == isError || !strings.HasSuffix(doc.XMLName.Local, "Response") {
			t.Fatalf("status %d with root <%s>", rec.Code, doc.XMLName.Local)
		}
	})
}
