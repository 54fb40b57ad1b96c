package rule

// ResourceSet holds the outcomes of a rule about many resources (one per
// IAM user, access key, role or policy) compactly, for accounts where
// there are tens of thousands of them. Most resources share one of a few
// outcomes ("has MFA", "no console password", "the report is too old to
// show this"): such an outcome is built once with Share, its message and
// evidence shared by every resource it holds for, and a resource that has
// it costs its ARN and a number. Only a resource with reasons of its own (a
// FAIL that names its dates, an UNKNOWN that names what is missing) gets
// its own ResourceOutcome through Add. Evaluate turns the set into one
// Result per resource, in the order added, with nothing in between.
//
// The results of shared outcomes share their Evidence slice: no consumer
// may change a result's evidence in place (report.Build copies what it
// redacts), and the slice is clipped so that an append copies it.
type ResourceSet struct {
	shared []ResourceOutcome
	// sharedIndex is each shared outcome's statusIndex, found once rather
	// than for each resource that has it.
	sharedIndex []int
	// resources are the resources added, the first len(which) of the
	// list when over is set: a list given by NewResourceSetOver, which
	// other rules' sets share and nothing may change.
	resources []string
	over      bool
	// which is, per resource, the shared outcome's index (>= 0) or the
	// own outcome's index in own as -(index+1).
	which  []int32
	own    []ResourceOutcome
	counts [len(statusOrder)]int
}

// statusOrder indexes ResourceSet.counts.
var statusOrder = [...]Status{Fail, Unknown, Pass, NotApplicable}

func (s *ResourceSet) count(st Status) {
	if i := statusIndex(st); i >= 0 {
		s.counts[i]++
	}
}

// statusIndex is st's index in statusOrder, -1 for none.
func statusIndex(st Status) int {
	for i, o := range statusOrder {
		if o == st {
			return i
		}
	}
	return -1
}

// Shared names an outcome of a ResourceSet that many resources share.
type Shared int32

// NewResourceSet returns a set sized for n resources.
func NewResourceSet(n int) *ResourceSet {
	return &ResourceSet{resources: make([]string, 0, n), which: make([]int32, 0, n)}
}

// NewResourceSetOver returns a set for the resources listed, to be added
// in that order, one AddShared or Add each. Several rules about the same
// resources (every per-user rule judges every user of the credential
// report) can give their sets one list, built once, rather than each its
// own copy of 100,000 ARNs. The set never changes the list: a resource
// added out of the list's order gets the set a copy of its own.
func NewResourceSetOver(resources []string) *ResourceSet {
	return &ResourceSet{resources: resources, over: true, which: make([]int32, 0, len(resources))}
}

// push records the next resource.
func (s *ResourceSet) push(resource string) {
	n := len(s.which)
	if s.over {
		if n < len(s.resources) && s.resources[n] == resource {
			return
		}
		own := make([]string, n, max(len(s.resources), n+1))
		copy(own, s.resources[:n])
		s.resources, s.over = own, false
	}
	s.resources = append(s.resources, resource)
}

// added is the resources added so far, in order.
func (s *ResourceSet) added() []string { return s.resources[:len(s.which)] }

// Share records an outcome many resources will have; give it to AddShared
// for each. Build its message and evidence once, without naming a
// resource: the result's Resource names it.
func (s *ResourceSet) Share(status Status, message string, evidence []Evidence) Shared {
	s.shared = append(s.shared, ResourceOutcome{Status: status, Message: message, Evidence: evidence[:len(evidence):len(evidence)]})
	s.sharedIndex = append(s.sharedIndex, statusIndex(status))
	return Shared(len(s.shared) - 1)
}

// SharedOutcome is the shared outcome h (with no resource).
func (s *ResourceSet) SharedOutcome(h Shared) ResourceOutcome { return s.shared[h] }

// AddShared adds a resource whose outcome is the shared one h.
func (s *ResourceSet) AddShared(resource string, h Shared) {
	s.push(resource)
	s.which = append(s.which, int32(h))
	if i := s.sharedIndex[h]; i >= 0 {
		s.counts[i]++
	}
}

// Add adds a resource with an outcome of its own (o.Resource names it).
func (s *ResourceSet) Add(o ResourceOutcome) {
	s.own = append(s.own, o)
	s.push(o.Resource)
	s.which = append(s.which, -int32(len(s.own)))
	s.count(o.Status)
}

// Len is the number of resources in the set.
func (s *ResourceSet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.which)
}

// Count is the number of resources with the status.
func (s *ResourceSet) Count(st Status) int {
	if s == nil {
		return 0
	}
	for i, o := range statusOrder {
		if o == st {
			return s.counts[i]
		}
	}
	return 0
}

// outcome is the shared or own outcome of the i-th resource, without
// its resource (the caller has it from s.added()).
func (s *ResourceSet) outcome(i int) *ResourceOutcome {
	if w := s.which[i]; w >= 0 {
		return &s.shared[w]
	}
	return &s.own[-s.which[i]-1]
}

// At is the outcome of the i-th resource added.
func (s *ResourceSet) At(i int) ResourceOutcome {
	w := s.which[i]
	if w < 0 {
		return s.own[-w-1]
	}
	o := s.shared[w]
	o.Resource = s.resources[i]
	return o
}

// PerResource is every per-resource outcome of o, from Resources or Set,
// for callers (tests) that want them as a list.
func (o Outcome) PerResource() []ResourceOutcome {
	if o.Set == nil {
		return o.Resources
	}
	out := make([]ResourceOutcome, o.Set.Len())
	for i := range out {
		out[i] = o.Set.At(i)
	}
	return out
}

// resourceCount is how many results o gives, 0 for an account-wide one.
func (o Outcome) resourceCount() int { return len(o.Resources) + o.Set.Len() }
