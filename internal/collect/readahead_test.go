package collect

import (
	"encoding/xml"
	"testing"
)

func TestPeekMarker(t *testing.T) {
	const head = `<GetAccountAuthorizationDetailsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetAccountAuthorizationDetailsResult>`
	const tail = `</GetAccountAuthorizationDetailsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetAccountAuthorizationDetailsResponse>`
	for _, tc := range []struct {
		name string
		body string
		want ahead
		ok   bool
	}{
		{"last page", head + `<IsTruncated>false</IsTruncated><UserDetailList/>` + tail, ahead{}, true},
		{"marker after the lists", head + `<IsTruncated>true</IsTruncated><UserDetailList><member><UserName>a</UserName></member></UserDetailList><Marker>bWFyaw==</Marker>` + tail, ahead{true, "bWFyaw=="}, true},
		{"marker first, escaped", head + `<Marker>a&amp;b/c+d</Marker><IsTruncated>true</IsTruncated>` + tail, ahead{true, "a&b/c+d"}, true},
		{"truncated without a marker", head + `<IsTruncated>true</IsTruncated>` + tail, ahead{}, false},
		{"empty marker", head + `<IsTruncated>true</IsTruncated><Marker></Marker>` + tail, ahead{}, false},
		{"two markers", head + `<IsTruncated>true</IsTruncated><Marker>a</Marker><Marker>b</Marker>` + tail, ahead{}, false},
		{"no IsTruncated", head + `<Marker>a</Marker>` + tail, ahead{}, false},
		{"both values", head + `<IsTruncated>true</IsTruncated><IsTruncated>false</IsTruncated><Marker>a</Marker>` + tail, ahead{}, false},
		{"unclosed marker", head + `<IsTruncated>true</IsTruncated><Marker>a`, ahead{}, false},
		{"markup in the marker", head + `<IsTruncated>true</IsTruncated><Marker>a<b/></Marker>` + tail, ahead{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := peekMarker([]byte(tc.body))
			if ok != tc.ok || got != tc.want {
				t.Errorf("peekMarker = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// FuzzPeekMarker: whatever the answer, what is read ahead is what a full
// decoding of the answer says, or nothing.
func FuzzPeekMarker(f *testing.F) {
	f.Add([]byte(`<R><Result><IsTruncated>true</IsTruncated><Marker>m</Marker></Result></R>`))
	f.Add([]byte(`<R><Result><IsTruncated>false</IsTruncated></Result></R>`))
	f.Add([]byte(`<R><Result><Marker>a&amp;b</Marker><IsTruncated>true</IsTruncated></Result></R>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := peekMarker(body)
		if !ok {
			return
		}
		var full struct {
			Result struct {
				IsTruncated string `xml:"IsTruncated"`
				Marker      string `xml:"Marker"`
			} `xml:"Result"`
		}
		if err := xml.Unmarshal(body, &full); err != nil {
			return // the SDK refuses such an answer, and the chain its page
		}
		if full.Result.IsTruncated == "" {
			return // not where an IAM answer has it: the decoded page decides
		}
		if got.truncated != (full.Result.IsTruncated == "true") || got.truncated && got.marker != full.Result.Marker {
			t.Errorf("read ahead %+v, decoded %+v", got, full.Result)
		}
	})
}
