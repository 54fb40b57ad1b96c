package awsemu

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// EC2 speaks its own query protocol: form parameters like IAM's, but an
// answer without a Result wrapper (<{Op}Response><requestId/>…), list
// members named <item>, and errors as <Response><Errors><Error>. Vigil
// reads the account's regions and its instances' instance profiles; the
// knowledge base attaches an instance profile.
//
// Paging follows DescribeInstances: MaxResults 5–1000 (every instance
// when absent, as AWS answers without it), NextToken, and the
// instance-state-name filter the collector uses to leave terminated
// instances out. Each instance is its own reservation.

const (
	ec2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"
	ec2Version   = "2016-11-15"
)

var ec2Handlers = map[string]handlerFunc{
	"DescribeRegions":             (*Server).ec2DescribeRegions,
	"DescribeInstances":           (*Server).ec2DescribeInstances,
	"AssociateIamInstanceProfile": (*Server).ec2AssociateIamInstanceProfile,
}

// items renders a list the EC2 way, one <item> per element, always with
// the enclosing element.
type items[T any] []T

func (m items[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, it := range m {
		if err := e.EncodeElement(it, xml.StartElement{Name: xml.Name{Local: "item"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// writeEC2Result writes <{Op}Response xmlns=…><requestId/>fields…</…>:
// the result's fields sit directly under the response element.
func writeEC2Result(w http.ResponseWriter, action, requestID string, result any) {
	var inner bytes.Buffer
	if result != nil {
		enc := xml.NewEncoder(&inner)
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: "x"}}); err != nil {
			writeEC2Error(w, requestID, &apiError{status: 500, code: "InternalError", message: "awsemu: encode response: " + err.Error()})
			return
		}
	}
	body := bytes.TrimSuffix(bytes.TrimPrefix(inner.Bytes(), []byte("<x>")), []byte("</x>"))
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	buf.WriteString("<" + action + "Response xmlns=\"" + ec2Namespace + "\"><requestId>" + requestID + "</requestId>")
	buf.Write(body)
	buf.WriteString("</" + action + "Response>")
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

func writeEC2Error(w http.ResponseWriter, requestID string, e *apiError) {
	var resp struct {
		XMLName xml.Name `xml:"Response"`
		Errors  struct {
			Error struct {
				Code    string `xml:"Code"`
				Message string `xml:"Message"`
			} `xml:"Error"`
		} `xml:"Errors"`
		RequestID string `xml:"RequestID"`
	}
	resp.Errors.Error.Code, resp.Errors.Error.Message, resp.RequestID = e.code, e.message, requestID
	body, _ := xml.Marshal(resp)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(e.status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}

// ec2Status is the HTTP status EC2 answers an error code with.
func ec2Status(code string) int {
	switch code {
	case "UnauthorizedOperation":
		return 403
	case "AuthFailure":
		return 401
	case "RequestLimitExceeded":
		return 503
	case "InternalError", "ServiceFailure":
		return 500
	}
	return 400
}

// ec2List reads Name.1, Name.2, … (EC2 numbers list members from 1).
func (r *request) ec2List(name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := r.form[name+"."+strconv.Itoa(i)]
		if !ok || len(v) == 0 {
			return out
		}
		out = append(out, v[0])
	}
}

// ec2Filters reads Filter.N.Name and Filter.N.Value.M.
func (r *request) ec2Filters() map[string][]string {
	out := map[string][]string{}
	for i := 1; ; i++ {
		name := r.form.Get("Filter." + strconv.Itoa(i) + ".Name")
		if name == "" {
			return out
		}
		out[name] = append(out[name], r.ec2List("Filter."+strconv.Itoa(i)+".Value")...)
	}
}

func (s *Server) ec2DescribeRegions(r *request) (any, *apiError) {
	if _, err := s.region(r); err != nil {
		return nil, err
	}
	all := r.param("AllRegions") == "true"
	names := r.ec2List("RegionName")
	type regionXML struct {
		RegionName     string `xml:"regionName"`
		RegionEndpoint string `xml:"regionEndpoint"`
		OptInStatus    string `xml:"optInStatus"`
	}
	var list []regionXML
	for _, reg := range s.regionsOf(r.caller.account) {
		if len(names) > 0 && !slices.Contains(names, reg.Name) || !all && len(names) == 0 && reg.OptIn == NotOptedIn {
			continue
		}
		list = append(list, regionXML{RegionName: reg.Name, RegionEndpoint: "ec2." + reg.Name + ".amazonaws.com", OptInStatus: reg.OptIn})
	}
	return struct {
		RegionInfo items[regionXML] `xml:"regionInfo"`
	}{list}, nil
}

type ec2InstanceXML struct {
	InstanceID    string `xml:"instanceId"`
	InstanceState struct {
		Code int    `xml:"code"`
		Name string `xml:"name"`
	} `xml:"instanceState"`
	LaunchTime         isoTime `xml:"launchTime"`
	IamInstanceProfile *struct {
		Arn string `xml:"arn"`
		ID  string `xml:"id"`
	} `xml:"iamInstanceProfile,omitempty"`
	TagSet items[ec2TagXML] `xml:"tagSet"`
}

type ec2TagXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type ec2ReservationXML struct {
	ReservationID string                `xml:"reservationId"`
	OwnerID       string                `xml:"ownerId"`
	Instances     items[ec2InstanceXML] `xml:"instancesSet"`
}

func (s *Server) ec2DescribeInstances(r *request) (any, *apiError) {
	reg, err := s.region(r)
	if err != nil {
		return nil, err
	}
	a := r.caller.account
	ids := r.ec2List("InstanceId")
	filters := r.ec2Filters()
	for name := range filters {
		if name != "instance-state-name" && name != "instance-id" {
			return nil, &apiError{status: 400, code: "InvalidParameterValue", message: "The filter '" + name + "' is not supported by the emulator"}
		}
	}
	limit, ok := intOr(r.param("MaxResults"), 0)
	if !ok || r.param("MaxResults") != "" && (limit < 5 || limit > 1000) {
		return nil, &apiError{status: 400, code: "InvalidParameterValue", message: "Value ( " + r.param("MaxResults") + " ) for parameter maxResults is invalid. Expecting a value between 5 and 1000."}
	}
	if limit > 0 && len(ids) > 0 {
		return nil, &apiError{status: 400, code: "InvalidParameterCombination", message: "The parameter instancesSet cannot be used with the parameter maxResults"}
	}
	insts := append([]Instance(nil), reg.Instances...)
	sort.Slice(insts, func(i, j int) bool { return insts[i].ID < insts[j].ID })
	var list []ec2ReservationXML
	for _, in := range insts {
		if len(ids) > 0 && !slices.Contains(ids, in.ID) {
			continue
		}
		if v := filters["instance-state-name"]; len(v) > 0 && !slices.Contains(v, in.State) {
			continue
		}
		if v := filters["instance-id"]; len(v) > 0 && !slices.Contains(v, in.ID) {
			continue
		}
		list = append(list, s.reservationXML(a, in))
	}
	for _, id := range ids {
		if !containsInstance(insts, id) {
			return nil, &apiError{status: 400, code: "InvalidInstanceID.NotFound", message: "The instance ID '" + id + "' does not exist"}
		}
	}
	offset := 0
	if tok := r.param("NextToken"); tok != "" {
		if offset, ok = decodeToken("DescribeInstances", tok); !ok {
			return nil, &apiError{status: 400, code: "InvalidParameterValue", message: "Invalid value '" + tok + "' for nextToken"}
		}
	}
	if limit == 0 {
		limit = len(list) + 1
	}
	out, next := page("DescribeInstances", list, offset, s.pageLimit(limit))
	return struct {
		Reservations items[ec2ReservationXML] `xml:"reservationSet"`
		NextToken    string                   `xml:"nextToken,omitempty"`
	}{out, next}, nil
}

func (s *Server) reservationXML(a *Account, in Instance) ec2ReservationXML {
	x := ec2InstanceXML{InstanceID: in.ID, LaunchTime: isoTime(in.LaunchTime)}
	x.InstanceState.Code, x.InstanceState.Name = instanceStates[in.State], in.State
	if in.InstanceProfile != "" {
		x.IamInstanceProfile = &struct {
			Arn string `xml:"arn"`
			ID  string `xml:"id"`
		}{s.instanceProfileARN(a.ID, in.InstanceProfile), derivedID("AIPA", a.ID+"/instance-profile/"+in.InstanceProfile)}
	}
	if in.Name != "" {
		x.TagSet = items[ec2TagXML]{{Key: "Name", Value: in.Name}}
	}
	return ec2ReservationXML{ReservationID: "r-" + strings.TrimPrefix(in.ID, "i-"), OwnerID: a.ID, Instances: items[ec2InstanceXML]{x}}
}

// ec2AssociateIamInstanceProfile attaches an instance profile, by name
// or ARN, to an instance that has none. Instance profiles themselves are
// not modelled: any name in the caller's account is accepted.
func (s *Server) ec2AssociateIamInstanceProfile(r *request) (any, *apiError) {
	reg, err := s.region(r)
	if err != nil {
		return nil, err
	}
	a := r.caller.account
	id := r.param("InstanceId")
	name := r.param("IamInstanceProfile.Name")
	if arn := r.param("IamInstanceProfile.Arn"); arn != "" {
		prefix := "arn:" + s.world.Partition + ":iam::" + a.ID + ":instance-profile/"
		n, found := strings.CutPrefix(arn, prefix)
		if !found {
			return nil, &apiError{status: 400, code: "InvalidParameterValue", message: "Value (" + arn + ") for parameter iamInstanceProfile.arn is invalid."}
		}
		name = n[strings.LastIndex(n, "/")+1:]
	}
	if id == "" || name == "" {
		return nil, &apiError{status: 400, code: "MissingParameter", message: "The request must contain the parameters InstanceId and IamInstanceProfile"}
	}
	for i := range reg.Instances {
		in := &reg.Instances[i]
		if in.ID != id {
			continue
		}
		if in.InstanceProfile != "" {
			return nil, &apiError{status: 400, code: "IncorrectState", message: "There is an existing association for instance " + id}
		}
		in.InstanceProfile = name
		type assoc struct {
			AssociationID      string `xml:"associationId"`
			InstanceID         string `xml:"instanceId"`
			IamInstanceProfile struct {
				Arn string `xml:"arn"`
				ID  string `xml:"id"`
			} `xml:"iamInstanceProfile"`
			State string `xml:"state"`
		}
		out := assoc{AssociationID: "iip-assoc-" + strings.ToLower(derivedID("", a.ID+"/"+id+"/"+name)), InstanceID: id, State: "associating"}
		out.IamInstanceProfile.Arn, out.IamInstanceProfile.ID = s.instanceProfileARN(a.ID, name), derivedID("AIPA", a.ID+"/instance-profile/"+name)
		return struct {
			Association assoc `xml:"iamInstanceProfileAssociation"`
		}{out}, nil
	}
	return nil, &apiError{status: 400, code: "InvalidInstanceID.NotFound", message: "The instance ID '" + id + "' does not exist"}
}

func containsInstance(list []Instance, id string) bool {
	for _, in := range list {
		if in.ID == id {
			return true
		}
	}
	return false
}
