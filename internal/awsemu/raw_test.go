package awsemu_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
)

// These tests speak raw HTTP, for what the SDK hides: status codes,
// headers and bytes of requests no SDK would send.

func signedHeader(keyID, service string) string {
	return "AWS4-HMAC-SHA256 Credential=" + keyID + "/20261101/us-east-1/" + service + "/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
}

func queryRequest(form url.Values, auth string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return r
}

type xmlError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Type    string   `xml:"Error>Type"`
	Code    string   `xml:"Error>Code"`
	Message string   `xml:"Error>Message"`
	ID      string   `xml:"RequestId"`
}

func serve(srv *awsemu.Server, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, r)
	return rec
}

func TestRawQueryErrors(t *testing.T) {
	srv := startTest(t)
	tests := []struct {
		name   string
		form   url.Values
		auth   string
		status int
		code   string
		ns     string
	}{
		{"no authorization", url.Values{"Action": {"GetAccountSummary"}, "Version": {"2010-05-08"}}, "", 403, "MissingAuthenticationToken", "https://iam.amazonaws.com/doc/2010-05-08/"},
		{"unknown action", url.Values{"Action": {"FlyToMoon"}, "Version": {"2010-05-08"}}, signedHeader(mgmtRootKey, "iam"), 400, "InvalidAction", "https://iam.amazonaws.com/doc/2010-05-08/"},
		{"unknown sts action", url.Values{"Action": {"GetSessionToken"}, "Version": {"2011-06-15"}}, signedHeader(mgmtRootKey, "sts"), 400, "InvalidAction", "https://sts.amazonaws.com/doc/2011-06-15/"},
		{"unknown version", url.Values{"Action": {"GetAccountSummary"}, "Version": {"1999-01-01"}}, signedHeader(mgmtRootKey, "iam"), 400, "InvalidAction", "https://iam.amazonaws.com/doc/2010-05-08/"},
		{"missing action", url.Values{"Version": {"2010-05-08"}}, signedHeader(mgmtRootKey, "iam"), 400, "MissingAction", "https://iam.amazonaws.com/doc/2010-05-08/"},
		{"unknown key", url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}, signedHeader("AKIANOBODY0000000001", "sts"), 403, "InvalidClientTokenId", "https://sts.amazonaws.com/doc/2011-06-15/"},
		// User input echoed in a message must be escaped.
		{"escaping", url.Values{"Action": {"ListVirtualMFADevices"}, "Version": {"2010-05-08"}, "AssignmentStatus": {"<x>&\"'"}}, signedHeader(mgmtRootKey, "iam"), 400, "ValidationError", "https://iam.amazonaws.com/doc/2010-05-08/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(srv, queryRequest(tt.form, tt.auth))
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			var e xmlError
			if err := xml.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			wantType := "Sender"
			if e.Code != tt.code || e.Xmlns != tt.ns || e.Type != wantType || e.ID == "" || e.ID != rec.Header().Get("x-amzn-RequestId") {
				t.Errorf("error = %+v, header id %q", e, rec.Header().Get("x-amzn-RequestId"))
			}
			if tt.name == "escaping" && !strings.Contains(e.Message, "<x>&\"'") {
				t.Errorf("message = %q", e.Message)
			}
		})
	}
}

func TestRawQuerySuccessShape(t *testing.T) {
	srv := startTest(t)
	// Without Version, the credential scope's service routes the call.
	rec := serve(srv, queryRequest(url.Values{"Action": {"GetCallerIdentity"}}, signedHeader(memberAliceKey, "sts")))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/xml" {
		t.Fatalf("status %d, type %q: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	var resp struct {
		XMLName xml.Name `xml:"GetCallerIdentityResponse"`
		Xmlns   string   `xml:"xmlns,attr"`
		Arn     string   `xml:"GetCallerIdentityResult>Arn"`
		ID      string   `xml:"ResponseMetadata>RequestId"`
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Xmlns != "https://sts.amazonaws.com/doc/2011-06-15/" || resp.Arn != "arn:aws:iam::444455556666:user/alice" || resp.ID != rec.Header().Get("x-amzn-RequestId") {
		t.Errorf("response = %+v", resp)
	}

	// Operations without output still answer with ResponseMetadata only.
	rec = serve(srv, queryRequest(url.Values{"Action": {"UpdateAccessKey"}, "Version": {"2010-05-08"}, "AccessKeyId": {mgmtRootKey2}, "Status": {"Active"}},
		signedHeader(mgmtRootKey, "iam")))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<UpdateAccessKeyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ResponseMetadata><RequestId>") ||
		strings.Contains(rec.Body.String(), "UpdateAccessKeyResult") {
		t.Errorf("UpdateAccessKey response: %s", rec.Body)
	}

	// Empty lists keep their element.
	rec = serve(srv, queryRequest(url.Values{"Action": {"ListSigningCertificates"}, "Version": {"2010-05-08"}}, signedHeader(mgmtRootKey, "iam")))
	if !strings.Contains(rec.Body.String(), "<Certificates></Certificates><IsTruncated>false</IsTruncated>") {
		t.Errorf("empty list response: %s", rec.Body)
	}
}

func TestRawJSON(t *testing.T) {
	srv := startTest(t)
	post := func(target, body, key string) (*httptest.ResponseRecorder, map[string]any) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		r.Header.Set("X-Amz-Target", target)
		if key != "" {
			r.Header.Set("Authorization", signedHeader(key, "organizations"))
		}
		rec := serve(srv, r)
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s: body %q: %v", target, rec.Body, err)
		}
		if rec.Header().Get("Content-Type") != "application/x-amz-json-1.1" || rec.Header().Get("x-amzn-RequestId") == "" {
			t.Errorf("%s: headers %v", target, rec.Header())
		}
		return rec, m
	}
	rec, m := post("AWSOrganizationsV20161128.DescribeAccount", `{"AccountId":"`+memberID+`"}`, mgmtAdminKey)
	acct := m["Account"].(map[string]any)
	if rec.Code != 200 || acct["JoinedTimestamp"] != float64(1641801600) || acct["State"] != "ACTIVE" {
		t.Errorf("DescribeAccount = %d %v", rec.Code, m)
	}
	rec, m = post("AWSOrganizationsV20161128.Teleport", `{}`, mgmtAdminKey)
	if rec.Code != 400 || m["__type"] != "UnknownOperationException" {
		t.Errorf("unknown operation = %d %v", rec.Code, m)
	}
	rec, m = post("SomeOtherService.Op", `{}`, mgmtAdminKey)
	if rec.Code != 400 || m["__type"] != "UnknownOperationException" {
		t.Errorf("unknown target = %d %v", rec.Code, m)
	}
	rec, m = post("AWSOrganizationsV20161128.ListAccounts", `{`, mgmtAdminKey)
	if rec.Code != 400 || m["__type"] != "SerializationException" {
		t.Errorf("bad JSON = %d %v", rec.Code, m)
	}
	rec, m = post("AWSOrganizationsV20161128.ListAccounts", `{}`, "")
	if m["__type"] != "MissingAuthenticationTokenException" {
		t.Errorf("no auth = %d %v", rec.Code, m)
	}
	rec, m = post("AWSOrganizationsV20161128.ListAccounts", `{"MaxResults":50}`, mgmtAdminKey)
	if rec.Code != 400 || m["__type"] != "InvalidInputException" || m["Reason"] != "MAX_VALUE_EXCEEDED" {
		t.Errorf("MaxResults 50 = %d %v", rec.Code, m)
	}
}
