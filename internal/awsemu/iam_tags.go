package awsemu

import (
	"slices"
	"strconv"
	"strings"
)

// Tags of IAM users and roles: what the pages of the tagging rules
// (Security Hub IAM.24, IAM.25) teach, and what
// GetAccountAuthorizationDetails returns beside each user and role. IAM
// allows 50 tags on an identity and reserves keys that begin with aws:.

// Tag is one key and value on an IAM user or role.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

const maxIdentityTags = 50

var iamTagHandlers = map[string]handlerFunc{
	"TagUser":      (*Server).iamTagUser,
	"UntagUser":    (*Server).iamUntagUser,
	"ListUserTags": (*Server).iamListUserTags,
	"TagRole":      (*Server).iamTagRole,
	"UntagRole":    (*Server).iamUntagRole,
	"ListRoleTags": (*Server).iamListRoleTags,
}

func tagsXML(tags []Tag) members[tagXML] {
	out := members[tagXML]{}
	for _, t := range tags {
		out = append(out, tagXML(t))
	}
	return out
}

// addTags sets each tag of the request (Tags.member.N.Key/Value), a key
// already present taking the new value, as IAM does.
func addTags(r *request, list *[]Tag) *apiError {
	var add []Tag
	for i := 1; ; i++ {
		p := "Tags.member." + strconv.Itoa(i) + "."
		k := r.param(p + "Key")
		if k == "" {
			break
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return newError("InvalidInput", "Tag keys beginning with aws: are reserved for AWS use.")
		}
		add = append(add, Tag{Key: k, Value: r.param(p + "Value")})
	}
	if len(add) == 0 {
		return errMissingParam("Tags")
	}
	next := slices.Clone(*list)
	for _, t := range add {
		if i := slices.IndexFunc(next, func(o Tag) bool { return o.Key == t.Key }); i >= 0 {
			next[i].Value = t.Value
		} else {
			next = append(next, t)
		}
	}
	if len(next) > maxIdentityTags {
		return newError("LimitExceeded", "The number of tags has reached the maximum limit of %d.", maxIdentityTags)
	}
	*list = next
	return nil
}

func removeTags(r *request, list *[]Tag) *apiError {
	var keys []string
	for i := 1; ; i++ {
		k := r.param("TagKeys.member." + strconv.Itoa(i))
		if k == "" {
			break
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return errMissingParam("TagKeys")
	}
	*list = slices.DeleteFunc(*list, func(t Tag) bool { return slices.Contains(keys, t.Key) })
	return nil
}

func listTags(r *request, tags []Tag) (any, *apiError) {
	out, truncated, marker, err := iamPage(r, tags)
	if err != nil {
		return nil, err
	}
	return struct {
		Tags        members[tagXML] `xml:"Tags"`
		IsTruncated bool            `xml:"IsTruncated"`
		Marker      string          `xml:"Marker,omitempty"`
	}{tagsXML(out), truncated, marker}, nil
}

func (s *Server) iamTagUser(r *request) (any, *apiError) {
	u, err := namedUser(r)
	if err != nil {
		return nil, err
	}
	return nil, addTags(r, &u.Tags)
}

func (s *Server) iamUntagUser(r *request) (any, *apiError) {
	u, err := namedUser(r)
	if err != nil {
		return nil, err
	}
	return nil, removeTags(r, &u.Tags)
}

func (s *Server) iamListUserTags(r *request) (any, *apiError) {
	u, err := namedUser(r)
	if err != nil {
		return nil, err
	}
	return listTags(r, u.Tags)
}

func (s *Server) iamTagRole(r *request) (any, *apiError) {
	ro, err := namedRole(r)
	if err != nil {
		return nil, err
	}
	return nil, addTags(r, &ro.Tags)
}

func (s *Server) iamUntagRole(r *request) (any, *apiError) {
	ro, err := namedRole(r)
	if err != nil {
		return nil, err
	}
	return nil, removeTags(r, &ro.Tags)
}

func (s *Server) iamListRoleTags(r *request) (any, *apiError) {
	ro, err := namedRole(r)
	if err != nil {
		return nil, err
	}
	return listTags(r, ro.Tags)
}
