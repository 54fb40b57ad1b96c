package awsemu

import (
	"bytes"
	"encoding/xml"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// XML namespaces of the two awsQuery services.
const (
	iamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// isoTime renders a timestamp the way awsQuery services do: ISO 8601 in
// UTC with whole seconds.
type isoTime time.Time

func (t isoTime) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format("2006-01-02T15:04:05Z")), nil
}

func isoPtr(t *time.Time) *isoTime {
	if t == nil || t.IsZero() {
		return nil
	}
	v := isoTime(*t)
	return &v
}

// members renders a list the awsQuery way, one <member> per item. It always
// writes the enclosing element, even for an empty list, because that is what
// AWS sends and what lets the SDK return an empty (not nil) slice.
type members[T any] []T

func (m members[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, item := range m {
		if err := e.EncodeElement(item, xml.StartElement{Name: xml.Name{Local: "member"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// intMap renders a map the awsQuery way (<entry><key/><value/></entry>),
// sorted by key so responses are byte-for-byte reproducible.
type intMap map[string]int

func (m intMap) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	type entry struct {
		Key   string `xml:"key"`
		Value int    `xml:"value"`
	}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if err := e.EncodeElement(entry{k, m[k]}, xml.StartElement{Name: xml.Name{Local: "entry"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// writeQueryResult writes
// <{Op}Response xmlns=…><{Op}Result>…</{Op}Result><ResponseMetadata>…</…>.
// result may be nil for operations without output (DeleteAccessKey…).
func writeQueryResult(w http.ResponseWriter, ns, action, requestID string, result any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	start := xml.StartElement{
		Name: xml.Name{Local: action + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: ns}},
	}
	type metadata struct {
		RequestID string `xml:"RequestId"`
	}
	err := enc.EncodeToken(start)
	if a, ok := result.(xmlAppender); ok && err == nil {
		// Written straight into buf, between what enc has flushed.
		if err = enc.Flush(); err == nil {
			buf.WriteString("<" + action + "Result>")
			a.appendXML(&buf)
			buf.WriteString("</" + action + "Result>")
		}
	} else if err == nil && result != nil {
		err = enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}})
	}
	if err == nil {
		err = enc.EncodeElement(metadata{requestID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(start.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		// Only a programming error in a result type gets here.
		writeQueryError(w, ns, requestID, &apiError{status: 500, code: "ServiceFailure", message: "awsemu: encode response: " + err.Error()})
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

type queryErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func writeQueryError(w http.ResponseWriter, ns, requestID string, e *apiError) {
	var resp queryErrorResponse
	resp.Xmlns = ns
	resp.Error.Type = "Sender"
	if e.status >= 500 {
		resp.Error.Type = "Receiver"
	}
	resp.Error.Code = e.code
	resp.Error.Message = e.message
	resp.RequestID = requestID
	body, err := xml.Marshal(resp)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(e.status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}
