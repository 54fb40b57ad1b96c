package awsemu

import "slices"

// Centralized root access (aws-facts §3.1): the IAM side of the
// organization features. The five operations share their checks and their
// output shape.

const iamServicePrincipal = "iam.amazonaws.com"

type orgFeaturesXML struct {
	OrganizationId  string          `xml:"OrganizationId,omitempty"`
	EnabledFeatures members[string] `xml:"EnabledFeatures"`
}

// orgFeatureCaller checks who may use the features. The order of checks
// decides which error a caller sees when several apply; it follows the
// order a real call would fail in (no organization first, then who is
// asking, then whether IAM may act on the organization).
func (s *Server) orgFeatureCaller(r *request, enable bool) (*Organization, *apiError) {
	a := r.caller.account
	o := s.org()
	if o == nil || !s.inOrg(a) {
		return nil, newError("OrganizationNotFoundException", "The account %s is not a member of an organization.", a.ID)
	}
	if o.FeatureSet != "ALL" {
		return nil, newError("OrganizationNotInAllFeaturesModeException", "The organization does not have all features enabled.")
	}
	if enable && !s.isManagement(a.ID) {
		return nil, newError("CallerIsNotManagementAccountException", "Only the management account of the organization can enable this feature.")
	}
	if !s.isManagement(a.ID) && !s.isDelegatedAdmin(a.ID) {
		return nil, newError("AccountNotManagementOrDelegatedAdministratorException",
			"The account %s is neither the management account nor a delegated administrator for IAM.", a.ID)
	}
	if !slices.Contains(o.TrustedAccess, iamServicePrincipal) {
		return nil, newError("ServiceAccessNotEnabledException", "Trusted access for %s is not enabled in the organization.", iamServicePrincipal)
	}
	return o, nil
}

func orgFeatures(o *Organization) orgFeaturesXML {
	out := orgFeaturesXML{OrganizationId: o.ID, EnabledFeatures: members[string]{}}
	if o.RootCredentialsManagement {
		out.EnabledFeatures = append(out.EnabledFeatures, "RootCredentialsManagement")
	}
	if o.RootSessions {
		out.EnabledFeatures = append(out.EnabledFeatures, "RootSessions")
	}
	return out
}

func (s *Server) iamListOrganizationsFeatures(r *request) (any, *apiError) {
	o, err := s.orgFeatureCaller(r, false)
	if err != nil {
		return nil, err
	}
	return orgFeatures(o), nil
}

func (s *Server) setOrgFeature(r *request, enable bool, set func(*Organization)) (any, *apiError) {
	o, err := s.orgFeatureCaller(r, enable)
	if err != nil {
		return nil, err
	}
	set(o)
	return orgFeatures(o), nil
}

func (s *Server) iamEnableRootCredentialsManagement(r *request) (any, *apiError) {
	return s.setOrgFeature(r, true, func(o *Organization) { o.RootCredentialsManagement = true })
}

func (s *Server) iamDisableRootCredentialsManagement(r *request) (any, *apiError) {
	return s.setOrgFeature(r, false, func(o *Organization) { o.RootCredentialsManagement = false })
}

func (s *Server) iamEnableRootSessions(r *request) (any, *apiError) {
	return s.setOrgFeature(r, true, func(o *Organization) { o.RootSessions = true })
}

func (s *Server) iamDisableRootSessions(r *request) (any, *apiError) {
	return s.setOrgFeature(r, false, func(o *Organization) { o.RootSessions = false })
}
