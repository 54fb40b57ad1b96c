package collect

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	smithytime "github.com/aws/smithy-go/time"

	"github.com/vigil-sec/vigil/internal/snapshot"
)

// errUnusual is what the purpose-built decoder says about an answer it
// does not read with certainty; the SDK's own decoder then reads it.
var errUnusual = errors.New("an answer the fast decoder leaves to the SDK")

// detailsPage is one GetAccountAuthorizationDetails answer read straight
// into the snapshot's entities.
type detailsPage struct {
	part      *snapshot.IAMDetails
	truncated bool
	marker    string
}

// decodeDetails reads one GetAccountAuthorizationDetails answer (awsQuery
// XML) into what convertPage would make of the SDK's decoding of it,
// without the SDK's decoder: at 1,000 users a page that decoder (smithy's
// shape deserializer over encoding/xml's tokens) was two thirds of the
// scanner's CPU. It reads only the plain XML AWS writes: elements without
// attributes below the root, no comments, CDATA or namespace prefixes,
// text without entities or control characters (a value that has them is
// read by encoding/xml alone). Anything else is errUnusual and the SDK
// reads the answer, so an answer is never read differently, only faster.
// Each distinct policy document of the page is URL-decoded once, and the
// names and ARNs that many users share (groups, attached policies) are
// kept once.
func decodeDetails(body []byte) (detailsPage, error) {
	r := detailsReader{b: body, docs: map[string]string{}, names: map[string]string{}}
	p, err := r.page()
	if err != nil {
		return detailsPage{}, err
	}
	return p, nil
}

type detailsReader struct {
	b     []byte
	i     int
	docs  map[string]string // a document as sent → URL-decoded
	names map[string]string // names and ARNs as sent → text
	open  [][]byte          // the elements open at r.i, innermost last
}

func (r *detailsReader) page() (detailsPage, error) {
	var p detailsPage
	err := r.response("GetAccountAuthorizationDetails", func() error { return r.result(&p) })
	return p, err
}

// response reads an awsQuery answer of op: its <opResponse> root, result
// reading the one <opResult>, the rest (ResponseMetadata) skipped.
func (r *detailsReader) response(op string, result func() error) error {
	r.space()
	if bytes.HasPrefix(r.b[r.i:], []byte("<?xml")) {
		end := bytes.Index(r.b[r.i:], []byte("?>"))
		if end < 0 {
			return errUnusual
		}
		r.i += end + 2
	}
	r.space()
	root, empty, err := r.start(true)
	if err != nil || empty || string(root) != op+"Response" {
		return errUnusual
	}
	found := false
	err = r.children(func(name []byte, empty bool) error {
		if string(name) != op+"Result" {
			return r.skip(empty)
		}
		if found || empty {
			return errUnusual
		}
		found = true
		return result()
	})
	if err != nil || !found {
		return errUnusual
	}
	r.space()
	if r.i != len(r.b) {
		return errUnusual
	}
	return nil
}

// decodeReport reads a GetCredentialReport answer as the SDK's decoder
// does, the same way and for the same reason as decodeDetails: the
// report of 10,000 users is a megabyte of base64 in one element, which
// encoding/xml reads a byte at a time.
func decodeReport(body []byte) (*iam.GetCredentialReportOutput, error) {
	r := detailsReader{b: body}
	out := &iam.GetCredentialReportOutput{}
	err := r.response("GetCredentialReport", func() error {
		return r.children(func(name []byte, empty bool) error {
			switch string(name) {
			case "Content":
				raw, err := r.raw(empty)
				if err != nil {
					return err
				}
				if !plain(raw) {
					s, err := xmlText(raw)
					if err != nil {
						return err
					}
					raw = []byte(s)
				}
				if len(raw) == 0 {
					return nil // the SDK leaves an empty blob nil
				}
				b := make([]byte, base64.StdEncoding.DecodedLen(len(raw)))
				n, err := base64.StdEncoding.Decode(b, raw)
				if err != nil {
					return errUnusual
				}
				out.Content = b[:n]
				return nil
			case "GeneratedTime":
				t, err := r.text(empty)
				if err != nil {
					return err
				}
				v, err := smithytime.ParseDateTime(t)
				if err != nil {
					return errUnusual
				}
				out.GeneratedTime = &v
				return nil
			case "ReportFormat":
				f, err := r.text(empty)
				out.ReportFormat = iamtypes.ReportFormatType(f)
				return err
			}
			return r.skip(empty)
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (r *detailsReader) result(p *detailsPage) error {
	d := &snapshot.IAMDetails{}
	p.part = d
	return r.children(func(name []byte, empty bool) error {
		switch string(name) {
		case "IsTruncated":
			t, err := r.text(empty)
			if err != nil {
				return err
			}
			if p.truncated, err = strconv.ParseBool(t); err != nil {
				return errUnusual
			}
			return nil
		case "Marker":
			m, err := r.text(empty)
			p.marker = m
			return err
		case "UserDetailList":
			return r.members(empty, func() error {
				u, err := r.user()
				d.Users = append(d.Users, u)
				return err
			})
		case "GroupDetailList":
			return r.members(empty, func() error {
				g, err := r.group()
				d.Groups = append(d.Groups, g)
				return err
			})
		case "RoleDetailList":
			return r.members(empty, func() error {
				ro, err := r.role()
				d.Roles = append(d.Roles, ro)
				return err
			})
		case "Policies":
			return r.members(empty, func() error {
				mp, err := r.policy()
				d.Policies = append(d.Policies, mp)
				return err
			})
		}
		return r.skip(empty)
	})
}

func (r *detailsReader) user() (snapshot.IAMUser, error) {
	var u snapshot.IAMUser
	err := r.children(func(name []byte, empty bool) error {
		var err error
		switch string(name) {
		case "UserName":
			u.Name, err = r.text(empty)
		case "Arn":
			u.ARN, err = r.text(empty)
		case "CreateDate":
			u.CreateDate, err = r.time(empty)
		case "GroupList":
			// The SDK makes an empty list of a present element.
			u.Groups = []string{}
			err = r.members(empty, func() error {
				g, err := r.name(false)
				u.Groups = append(u.Groups, g)
				return err
			})
		case "AttachedManagedPolicies":
			u.Attached, err = r.attached(empty)
		case "UserPolicyList":
			u.Inline, err = r.inline(empty)
		case "Tags":
			u.Tags, err = r.tags(empty)
		default:
			err = r.skip(empty)
		}
		return err
	})
	return u, err
}

func (r *detailsReader) group() (snapshot.IAMGroup, error) {
	var g snapshot.IAMGroup
	err := r.children(func(name []byte, empty bool) error {
		var err error
		switch string(name) {
		case "GroupName":
			g.Name, err = r.text(empty)
		case "Arn":
			g.ARN, err = r.text(empty)
		case "AttachedManagedPolicies":
			g.Attached, err = r.attached(empty)
		case "GroupPolicyList":
			g.Inline, err = r.inline(empty)
		default:
			err = r.skip(empty)
		}
		return err
	})
	return g, err
}

func (r *detailsReader) role() (snapshot.IAMRole, error) {
	var ro snapshot.IAMRole
	err := r.children(func(name []byte, empty bool) error {
		var err error
		switch string(name) {
		case "RoleName":
			ro.Name, err = r.text(empty)
		case "Arn":
			ro.ARN, err = r.text(empty)
		case "AttachedManagedPolicies":
			ro.Attached, err = r.attached(empty)
		case "RolePolicyList":
			ro.Inline, err = r.inline(empty)
		case "Tags":
			ro.Tags, err = r.tags(empty)
		default:
			err = r.skip(empty)
		}
		return err
	})
	return ro, err
}

// policyVersion is what convertPage looks at in a managed policy's version.
type policyVersion struct {
	id       string
	isDef    bool
	document []byte // as sent, decoded only for the default version
	hasDoc   bool
}

func (r *detailsReader) policy() (snapshot.ManagedPolicy, error) {
	var mp snapshot.ManagedPolicy
	var versions []policyVersion
	err := r.children(func(name []byte, empty bool) error {
		var err error
		switch string(name) {
		case "PolicyName":
			mp.Name, err = r.text(empty)
		case "Arn":
			mp.ARN, err = r.text(empty)
		case "AttachmentCount":
			var t string
			if t, err = r.text(empty); err == nil {
				n, perr := strconv.ParseInt(t, 10, 32)
				if perr != nil {
					return errUnusual
				}
				mp.AttachmentCount = int(n)
			}
		case "DefaultVersionId":
			mp.DefaultVersion, err = r.text(empty)
		case "PolicyVersionList":
			versions = versions[:0] // the SDK keeps the last list it reads
			err = r.members(empty, func() error {
				v, err := r.version()
				versions = append(versions, v)
				return err
			})
		default:
			err = r.skip(empty)
		}
		return err
	})
	if err != nil {
		return mp, err
	}
	mp.AWSManaged = isAWSManaged(mp.ARN)
	for _, v := range versions {
		if v.isDef || v.id == mp.DefaultVersion {
			if v.hasDoc {
				if mp.Document, err = r.document(v.document); err != nil {
					return mp, err
				}
			}
			break
		}
	}
	return mp, nil
}

func (r *detailsReader) version() (policyVersion, error) {
	var v policyVersion
	err := r.children(func(name []byte, empty bool) error {
		var err error
		switch string(name) {
		case "VersionId":
			v.id, err = r.text(empty)
		case "IsDefaultVersion":
			var t string
			if t, err = r.text(empty); err == nil {
				var perr error
				if v.isDef, perr = strconv.ParseBool(t); perr != nil {
					return errUnusual
				}
			}
		case "Document":
			// Every version's text is checked as the SDK decodes it,
			// though only the default one is kept: a version the scan
			// never reads still made the SDK refuse the page
			// (FuzzDecodeDetails, 2026-12-04: invalid UTF-8 in one).
			if v.document, err = r.raw(empty); err == nil {
				err = r.check(v.document)
			}
			v.hasDoc = true
		default:
			err = r.skip(empty)
		}
		return err
	})
	return v, err
}

// attached, inline and tags return nil for an empty list, as convertPage's
// helpers do.
func (r *detailsReader) attached(empty bool) ([]snapshot.AttachedPolicy, error) {
	var out []snapshot.AttachedPolicy
	err := r.members(empty, func() error {
		var a snapshot.AttachedPolicy
		err := r.children(func(name []byte, empty bool) error {
			var err error
			switch string(name) {
			case "PolicyName":
				a.Name, err = r.name(empty)
			case "PolicyArn":
				a.ARN, err = r.name(empty)
			default:
				err = r.skip(empty)
			}
			return err
		})
		out = append(out, a)
		return err
	})
	return out, err
}

func (r *detailsReader) inline(empty bool) ([]snapshot.InlinePolicy, error) {
	var out []snapshot.InlinePolicy
	err := r.members(empty, func() error {
		var ip snapshot.InlinePolicy
		var doc []byte
		err := r.children(func(name []byte, empty bool) error {
			var err error
			switch string(name) {
			case "PolicyName":
				ip.Name, err = r.name(empty)
			case "PolicyDocument":
				doc, err = r.raw(empty)
			default:
				err = r.skip(empty)
			}
			return err
		})
		if err == nil && doc != nil {
			ip.Document, err = r.document(doc)
		}
		out = append(out, ip)
		return err
	})
	return out, err
}

func (r *detailsReader) tags(empty bool) ([]snapshot.Tag, error) {
	var out []snapshot.Tag
	err := r.members(empty, func() error {
		var t snapshot.Tag
		err := r.children(func(name []byte, empty bool) error {
			var err error
			switch string(name) {
			case "Key":
				t.Key, err = r.text(empty)
			case "Value":
				t.Value, err = r.text(empty)
			default:
				err = r.skip(empty)
			}
			return err
		})
		out = append(out, t)
		return err
	})
	return out, err
}

// document URL-decodes a policy document once per distinct text on the
// page: a thousand users with the same inline policy share one string.
func (r *detailsReader) document(raw []byte) (string, error) {
	if d, ok := r.docs[string(raw)]; ok {
		return d, nil
	}
	s, err := r.str(raw)
	if err != nil {
		return "", err
	}
	d := decodeDocument(&s)
	r.docs[string(raw)] = d
	return d, nil
}

// name reads a text many entities repeat (a group, an attached policy) and
// keeps one copy of it.
func (r *detailsReader) name(empty bool) (string, error) {
	raw, err := r.raw(empty)
	if err != nil {
		return "", err
	}
	if s, ok := r.names[string(raw)]; ok {
		return s, nil
	}
	s, err := r.str(raw)
	if err == nil {
		r.names[string(raw)] = s
	}
	return s, err
}

func (r *detailsReader) time(empty bool) (*time.Time, error) {
	t, err := r.text(empty)
	if err != nil {
		return nil, err
	}
	v, err := smithytime.ParseDateTime(t)
	if err != nil {
		return nil, errUnusual
	}
	u := v.UTC()
	return &u, nil
}

func (r *detailsReader) text(empty bool) (string, error) {
	raw, err := r.raw(empty)
	if err != nil {
		return "", err
	}
	return r.str(raw)
}

// str turns an element's text, as sent, into its value. Plain printable
// ASCII is the value itself; anything else (an entity, a carriage return,
// a byte outside ASCII) is left to encoding/xml, which the SDK's decoder
// uses too, so the value is the same and an invalid one is refused alike.
func (r *detailsReader) str(raw []byte) (string, error) {
	if !plain(raw) {
		return xmlText(raw)
	}
	return string(raw), nil
}

// check refuses, as str would, a text encoding/xml would refuse.
func (r *detailsReader) check(raw []byte) error {
	if plain(raw) {
		return nil
	}
	_, err := xmlText(raw)
	return err
}

func plain(raw []byte) bool {
	for _, c := range raw {
		if c == '&' || c >= 0x80 || c < 0x20 && c != '\t' && c != '\n' {
			return false
		}
	}
	return true
}

func xmlText(raw []byte) (string, error) {
	dec := xml.NewDecoder(bytes.NewReader(append(append([]byte("<v>"), raw...), "</v>"...)))
	var v struct {
		Text string `xml:",chardata"`
	}
	if err := dec.Decode(&v); err != nil {
		return "", errUnusual
	}
	return v.Text, nil
}

// raw reads the text of the element just opened and its end tag: the
// bytes as sent, never nil. An element holding other elements is unusual.
func (r *detailsReader) raw(empty bool) ([]byte, error) {
	if empty {
		return []byte{}, nil
	}
	start := r.i
	end := bytes.IndexByte(r.b[r.i:], '<')
	if end < 0 {
		return nil, errUnusual
	}
	r.i += end
	text := r.b[start:r.i]
	if !bytes.HasPrefix(r.b[r.i:], []byte("</")) {
		return nil, errUnusual
	}
	if err := r.close(); err != nil {
		return nil, err
	}
	return text, nil
}

// members reads a wrapped list: <member> elements and nothing else.
func (r *detailsReader) members(empty bool, item func() error) error {
	if empty {
		return nil
	}
	return r.children(func(name []byte, empty bool) error {
		if string(name) != "member" || empty {
			return errUnusual
		}
		return item()
	})
}

// children calls fn for each child element of the element just opened,
// fn reading the child to its end, then reads the end tag. Text between
// children may only be white space.
func (r *detailsReader) children(fn func(name []byte, empty bool) error) error {
	for {
		r.space()
		if r.i >= len(r.b) || r.b[r.i] != '<' {
			return errUnusual
		}
		if r.i+1 < len(r.b) && r.b[r.i+1] == '/' {
			return r.close()
		}
		name, empty, err := r.start(false)
		if err != nil {
			return err
		}
		if err := fn(name, empty); err != nil {
			return err
		}
	}
}

// skip reads past the element just opened, whatever it holds, as the SDK
// skips the members it does not know.
func (r *detailsReader) skip(empty bool) error {
	if empty {
		return nil
	}
	for depth := 1; depth > 0; {
		lt := bytes.IndexByte(r.b[r.i:], '<')
		if lt < 0 {
			return errUnusual
		}
		if err := r.check(r.b[r.i : r.i+lt]); err != nil {
			return err
		}
		r.i += lt
		if r.i+1 < len(r.b) && r.b[r.i+1] == '/' {
			if err := r.close(); err != nil {
				return err
			}
			depth--
			continue
		}
		_, empty, err := r.start(false)
		if err != nil {
			return err
		}
		if !empty {
			depth++
		}
	}
	return nil
}

// start reads a start tag at r.i. Attributes are read (and ignored) only
// on the root, where AWS puts its xmlns; anywhere else they are unusual.
func (r *detailsReader) start(attrs bool) (name []byte, empty bool, err error) {
	if r.i >= len(r.b) || r.b[r.i] != '<' {
		return nil, false, errUnusual
	}
	r.i++
	name = r.tagName()
	if name == nil {
		return nil, false, errUnusual
	}
	for {
		if r.i >= len(r.b) {
			return nil, false, errUnusual
		}
		switch c := r.b[r.i]; {
		case c == '>':
			r.i++
			r.open = append(r.open, name)
			return name, false, nil
		case c == '/':
			if r.i+1 < len(r.b) && r.b[r.i+1] == '>' {
				r.i += 2
				return name, true, nil
			}
			return nil, false, errUnusual
		case isSpace(c) && attrs:
			r.space()
			if r.i < len(r.b) && (r.b[r.i] == '>' || r.b[r.i] == '/') {
				continue
			}
			if r.tagName() == nil || r.i >= len(r.b) || r.b[r.i] != '=' {
				return nil, false, errUnusual
			}
			r.i++
			if r.i >= len(r.b) || r.b[r.i] != '"' && r.b[r.i] != '\'' {
				return nil, false, errUnusual
			}
			q := r.b[r.i]
			end := bytes.IndexByte(r.b[r.i+1:], q)
			// A value with an entity or a byte outside printable ASCII
			// (which encoding/xml may refuse) is unusual.
			if end < 0 || bytes.ContainsAny(r.b[r.i+1:r.i+1+end], "<&") || !plain(r.b[r.i+1:r.i+1+end]) {
				return nil, false, errUnusual
			}
			r.i += end + 2
			if r.i < len(r.b) && !isSpace(r.b[r.i]) && r.b[r.i] != '>' && r.b[r.i] != '/' {
				return nil, false, errUnusual
			}
		default:
			return nil, false, errUnusual
		}
	}
}

// close reads at r.i the end tag of the innermost open element; any
// other end tag is unusual (encoding/xml refuses it).
func (r *detailsReader) close() error {
	if !bytes.HasPrefix(r.b[r.i:], []byte("</")) || len(r.open) == 0 {
		return errUnusual
	}
	r.i += 2
	if !bytes.Equal(r.tagName(), r.open[len(r.open)-1]) {
		return errUnusual
	}
	r.open = r.open[:len(r.open)-1]
	r.space()
	if r.i >= len(r.b) || r.b[r.i] != '>' {
		return errUnusual
	}
	r.i++
	return nil
}

// tagName reads a name of letters, digits, '_', '-' and '.', the only
// ones AWS's element names use; a prefixed (namespaced) name is unusual.
func (r *detailsReader) tagName() []byte {
	start := r.i
	for r.i < len(r.b) {
		c := r.b[r.i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || r.i > start && (c >= '0' && c <= '9' || c == '-' || c == '.') {
			r.i++
			continue
		}
		break
	}
	if r.i == start {
		return nil
	}
	return r.b[start:r.i]
}

func (r *detailsReader) space() {
	for r.i < len(r.b) && isSpace(r.b[r.i]) {
		r.i++
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
