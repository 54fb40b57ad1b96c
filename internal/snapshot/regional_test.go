package snapshot

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestAnalyzerTagsUnknownUntilRead: a snapshot written before Vigil kept
// the analyzers' tags has no "tags" key; it must read as tags unknown
// (nil), not as an analyzer without tags, while an empty list stays empty
// and tags survive a round trip.
func TestAnalyzerTagsUnknownUntilRead(t *testing.T) {
	doc := func(tags string) string {
		an := `{"name":"external","arn":"arn:aws:access-analyzer:us-east-1:111122223333:analyzer/external","type":"ACCOUNT","status":"ACTIVE"` + tags + `}`
		return `{"schema":"vigil.snapshot","version":1,"collected_at":"2026-11-26T12:00:00Z","accounts":[{"account_id":"111122223333",` +
			`"regions":[{"name":"us-east-1","opt_in_status":"opt-in-not-required","analyzers":[` + an + `],"instances":[]}]}]}`
	}
	for _, c := range []struct {
		name, tags string
		want       []Tag
		wantNil    bool
	}{
		{name: "written before tags were kept", tags: "", wantNil: true},
		{name: "explicit null", tags: `,"tags":null`, wantNil: true},
		{name: "read, none", tags: `,"tags":[]`, want: []Tag{}},
		{name: "read, two", tags: `,"tags":[{"key":"aws:cloudformation:stack-name","value":"base"},{"key":"owner","value":"security"}]`,
			want: []Tag{{Key: "aws:cloudformation:stack-name", Value: "base"}, {Key: "owner", Value: "security"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := Decode(strings.NewReader(doc(c.tags)), "snap.json")
			if err != nil {
				t.Fatal(err)
			}
			got := d.Accounts[0].Regions[0].Analyzers[0].Tags
			if c.wantNil {
				if got != nil {
					t.Fatalf("tags = %#v, want nil (unknown)", got)
				}
			} else if got == nil || !cmp.Equal(c.want, got) {
				t.Fatalf("tags = %#v, want %#v", got, c.want)
			}
			var buf bytes.Buffer
			if err := Encode(&buf, d); err != nil {
				t.Fatal(err)
			}
			back, err := Decode(&buf, "again")
			if err != nil {
				t.Fatal(err)
			}
			if again := back.Accounts[0].Regions[0].Analyzers[0].Tags; (again == nil) != (got == nil) || !cmp.Equal(got, again) {
				t.Errorf("after a round trip: %#v, want %#v", again, got)
			}
		})
	}
}
