package awsemu

import (
	"slices"
	"sort"
	"strings"
)

// iamHandlers lists the IAM operations the emulator implements. Each acts
// on the caller's account.
var iamHandlers = map[string]handlerFunc{
	"GetAccountSummary":                             (*Server).iamGetAccountSummary,
	"GetAccountAuthorizationDetails":                (*Server).iamGetAccountAuthorizationDetails,
	"GetAccountPasswordPolicy":                      (*Server).iamGetAccountPasswordPolicy,
	"UpdateAccountPasswordPolicy":                   (*Server).iamUpdateAccountPasswordPolicy,
	"GenerateCredentialReport":                      (*Server).iamGenerateCredentialReport,
	"GetCredentialReport":                           (*Server).iamGetCredentialReport,
	"ListVirtualMFADevices":                         (*Server).iamListVirtualMFADevices,
	"ListAccessKeys":                                (*Server).iamListAccessKeys,
	"ListSigningCertificates":                       (*Server).iamListSigningCertificates,
	"ListServerCertificates":                        (*Server).iamListServerCertificates, // regional.go
	"DeleteServerCertificate":                       (*Server).iamDeleteServerCertificate,
	"ListSAMLProviders":                             (*Server).iamListSAMLProviders,          // account.go
	"ListOpenIDConnectProviders":                    (*Server).iamListOpenIDConnectProviders, // account.go
	"ListMFADevices":                                (*Server).iamListMFADevices,
	"GetLoginProfile":                               (*Server).iamGetLoginProfile,
	"CreateLoginProfile":                            (*Server).iamCreateLoginProfile,
	"DeleteLoginProfile":                            (*Server).iamDeleteLoginProfile,
	"GetUser":                                       (*Server).iamGetUser,
	"ListUsers":                                     (*Server).iamListUsers,
	"ListAccountAliases":                            (*Server).iamListAccountAliases,
	"GetAccessKeyLastUsed":                          (*Server).iamGetAccessKeyLastUsed,
	"CreateAccessKey":                               (*Server).iamCreateAccessKey,
	"DeleteAccessKey":                               (*Server).iamDeleteAccessKey,
	"UpdateAccessKey":                               (*Server).iamUpdateAccessKey,
	"DeleteSigningCertificate":                      (*Server).iamDeleteSigningCertificate,
	"DeactivateMFADevice":                           (*Server).iamDeactivateMFADevice,
	"ListOrganizationsFeatures":                     (*Server).iamListOrganizationsFeatures,
	"EnableOrganizationsRootCredentialsManagement":  (*Server).iamEnableRootCredentialsManagement,
	"DisableOrganizationsRootCredentialsManagement": (*Server).iamDisableRootCredentialsManagement,
	"EnableOrganizationsRootSessions":               (*Server).iamEnableRootSessions,
	"DisableOrganizationsRootSessions":              (*Server).iamDisableRootSessions,
}

// Wire shapes. Fields are in the order AWS sends them; names are the
// element names.

type userXML struct {
	Path             string   `xml:"Path,omitempty"`
	UserName         string   `xml:"UserName,omitempty"`
	UserId           string   `xml:"UserId"`
	Arn              string   `xml:"Arn"`
	CreateDate       isoTime  `xml:"CreateDate"`
	PasswordLastUsed *isoTime `xml:"PasswordLastUsed,omitempty"`
}

type accessKeyMetadataXML struct {
	UserName    string  `xml:"UserName,omitempty"`
	AccessKeyId string  `xml:"AccessKeyId"`
	Status      string  `xml:"Status"`
	CreateDate  isoTime `xml:"CreateDate"`
}

type certificateXML struct {
	UserName        string  `xml:"UserName,omitempty"`
	CertificateId   string  `xml:"CertificateId"`
	CertificateBody string  `xml:"CertificateBody"`
	Status          string  `xml:"Status"`
	UploadDate      isoTime `xml:"UploadDate"`
}

type mfaDeviceXML struct {
	UserName     string  `xml:"UserName,omitempty"`
	SerialNumber string  `xml:"SerialNumber"`
	EnableDate   isoTime `xml:"EnableDate"`
}

type virtualMFAXML struct {
	SerialNumber string   `xml:"SerialNumber"`
	EnableDate   *isoTime `xml:"EnableDate,omitempty"`
	User         *userXML `xml:"User,omitempty"`
}

type loginProfileXML struct {
	UserName              string  `xml:"UserName,omitempty"`
	CreateDate            isoTime `xml:"CreateDate"`
	PasswordResetRequired bool    `xml:"PasswordResetRequired"`
}

// iamTarget is whose credentials an IAM call acts on: an IAM user, or the
// root user when user is nil.
type iamTarget struct {
	acct *Account
	user *User
}

func (t iamTarget) keys() *[]AccessKey {
	if t.user == nil {
		return &t.acct.Root.AccessKeys
	}
	return &t.user.AccessKeys
}

func (t iamTarget) certs() *[]Cert {
	if t.user == nil {
		return &t.acct.Root.SigningCertificates
	}
	return &t.user.SigningCertificates
}

func (t iamTarget) mfas() *[]MFADevice {
	if t.user == nil {
		return &t.acct.Root.MFADevices
	}
	return &t.user.MFADevices
}

// userName is the UserName member for responses. Responses about the root
// user omit it: what AWS puts there for root is UNVERIFIED, and omission is
// the answer a client can least misread as "an IAM user named root".
func (t iamTarget) userName() string {
	if t.user == nil {
		return ""
	}
	return t.user.Name
}

// displayName names the target in error messages.
func (t iamTarget) displayName() string {
	if t.user == nil {
		return "root"
	}
	return t.user.Name
}

// rootSessionOnly are the calls that may omit UserName to act on the root
// user only in an sts:AssumeRoot session: signed with root's own
// long-term key, AWS requires the user name (which names an IAM user, so
// root's console password and MFA cannot be managed this way at all; the
// console is the way).
var rootSessionOnly = map[string]bool{
	"GetLoginProfile": true, "CreateLoginProfile": true, "DeleteLoginProfile": true, "DeactivateMFADevice": true,
}

// target resolves whose credentials a call acts on. With UserName it is
// that IAM user, and "root" is only ever a user literally named root.
// Without UserName it is the signer: root for root keys (except the
// rootSessionOnly calls) and AssumeRoot sessions, the user for user keys;
// role sessions must name a user.
func (s *Server) target(r *request) (iamTarget, *apiError) {
	acct := r.caller.account
	if name := r.param("UserName"); name != "" {
		if !iamNamePattern.MatchString(name) {
			return iamTarget{}, errValidation("1 validation error detected: Value '%s' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name)
		}
		u := acct.user(name)
		if u == nil {
			return iamTarget{}, errNoSuchUser(name)
		}
		return iamTarget{acct: acct, user: u}, nil
	}
	switch r.caller.kind {
	case kindRoot:
		if rootSessionOnly[r.action] {
			// The model: "When you make this request with root user
			// credentials, you must use an AssumeRoot session to omit the
			// user name." The error AWS sends is UNVERIFIED; a
			// ValidationError is what it sends for the other calls that
			// lack a user name they need.
			return iamTarget{}, errValidation("%s: root user credentials must use an AssumeRoot session to omit the user name", r.action)
		}
		return iamTarget{acct: acct}, nil
	case kindAssumedRoot:
		return iamTarget{acct: acct}, nil
	case kindUser:
		if u := acct.user(r.caller.user); u != nil {
			return iamTarget{acct: acct, user: u}, nil
		}
		return iamTarget{}, errNoSuchUser(r.caller.user)
	}
	return iamTarget{}, errValidation("Must specify userName when calling with non-User credentials")
}

func (s *Server) rootUserXML(a *Account) *userXML {
	return &userXML{
		UserId:           a.ID,
		Arn:              rootARN(s.world.Partition, a.ID),
		CreateDate:       isoTime(a.Root.CreateDate),
		PasswordLastUsed: isoPtr(a.Root.PasswordLastUsed),
	}
}

func (s *Server) userXML(a *Account, u *User) *userXML {
	return &userXML{
		Path:             u.Path,
		UserName:         u.Name,
		UserId:           u.ID,
		Arn:              userARN(s.world.Partition, a.ID, u.Path, u.Name),
		CreateDate:       isoTime(u.CreateDate),
		PasswordLastUsed: isoPtr(u.PasswordLastUsed),
	}
}

func (s *Server) iamGetAccountSummary(r *request) (any, *apiError) {
	a := r.caller.account
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	mfaInUse := len(a.Root.MFADevices)
	for _, u := range a.Users {
		mfaInUse += len(u.MFADevices)
	}
	summary := intMap{
		// Root-user flags. An inactive key still counts as present.
		"AccountAccessKeysPresent":          b2i(len(a.Root.AccessKeys) > 0),
		"AccountMFAEnabled":                 b2i(len(a.Root.MFADevices) > 0),
		"AccountPasswordPresent":            b2i(a.Root.Password),
		"AccountSigningCertificatesPresent": b2i(len(a.Root.SigningCertificates) > 0),

		"Users":            len(a.Users),
		"Roles":            len(a.Roles),
		"MFADevices":       mfaInUse + len(a.UnassignedVirtualMFA),
		"MFADevicesInUse":  mfaInUse,
		"Groups":           0,
		"Policies":         0,
		"InstanceProfiles": 0,
		"Providers":        0,

		// Default quotas of a new account.
		"AccessKeysPerUserQuota":          2,
		"SigningCertificatesPerUserQuota": 2,
		"UsersQuota":                      5000,
		"GroupsQuota":                     300,
		"RolesQuota":                      1000,
		"PoliciesQuota":                   1500,
		"GroupsPerUserQuota":              10,
		"AttachedPoliciesPerUserQuota":    10,
		"AttachedPoliciesPerRoleQuota":    10,
		"AttachedPoliciesPerGroupQuota":   10,
		"PolicySizeQuota":                 6144,
		"UserPolicySizeQuota":             2048,
		"GroupPolicySizeQuota":            5120,
		"RolePolicySizeQuota":             10240,
		"AssumeRolePolicySizeQuota":       2048,
		"VersionsPerPolicyQuota":          5,
		"ServerCertificates":              0,
		"ServerCertificatesQuota":         20,
		"InstanceProfilesQuota":           1000,
		"GlobalEndpointTokenVersion":      1,
	}
	return struct {
		SummaryMap intMap `xml:"SummaryMap"`
	}{summary}, nil
}

func (s *Server) iamListVirtualMFADevices(r *request) (any, *apiError) {
	a := r.caller.account
	status := r.param("AssignmentStatus")
	switch status {
	case "":
		status = "Any"
	case "Assigned", "Unassigned", "Any":
	default:
		return nil, errValidation("1 validation error detected: Value '%s' at 'assignmentStatus' failed to satisfy constraint: Member must satisfy enum value set: [Assigned, Unassigned, Any]", status)
	}
	var devices []virtualMFAXML
	if status != "Unassigned" {
		// Root's device carries a User whose Arn is the root ARN and whose
		// UserId is the account ID; UserName and Path are omitted because
		// their real values are UNVERIFIED.
		for _, m := range a.Root.MFADevices {
			if m.Type == MFAVirtual {
				devices = append(devices, virtualMFAXML{SerialNumber: m.Serial, EnableDate: isoPtr(&m.EnableDate), User: s.rootUserXML(a)})
			}
		}
		for _, u := range sortedUsers(a) {
			for _, m := range u.MFADevices {
				if m.Type == MFAVirtual {
					devices = append(devices, virtualMFAXML{SerialNumber: m.Serial, EnableDate: isoPtr(&m.EnableDate), User: s.userXML(a, u)})
				}
			}
		}
	}
	if status != "Assigned" {
		for _, serial := range a.UnassignedVirtualMFA {
			devices = append(devices, virtualMFAXML{SerialNumber: serial})
		}
	}
	out, truncated, marker, err := iamPage(r, devices)
	if err != nil {
		return nil, err
	}
	return struct {
		VirtualMFADevices members[virtualMFAXML] `xml:"VirtualMFADevices"`
		IsTruncated       bool                   `xml:"IsTruncated"`
		Marker            string                 `xml:"Marker,omitempty"`
	}{out, truncated, marker}, nil
}

func sortedUsers(a *Account) []*User {
	users := make([]*User, len(a.Users))
	for i := range a.Users {
		users[i] = &a.Users[i]
	}
	sort.Slice(users, func(i, j int) bool { return users[i].Name < users[j].Name })
	return users
}

func (s *Server) iamListAccessKeys(r *request) (any, *apiError) {
	t, err := s.target(r)
	if err != nil {
		return nil, err
	}
	var keys []accessKeyMetadataXML
	for _, k := range *t.keys() {
		keys = append(keys, accessKeyMetadataXML{UserName: t.userName(), AccessKeyId: k.ID, Status: k.Status, CreateDate: isoTime(k.CreateDate)})
	}
	out, truncated, marker, err := iamPage(r, keys)
	if err != nil {
		return nil, err
	}
	return struct {
		AccessKeyMetadata members[accessKeyMetadataXML] `xml:"AccessKeyMetadata"`
		IsTruncated       bool                          `xml:"IsTruncated"`
		Marker            string                        `xml:"Marker,omitempty"`
	}{out, truncated, marker}, nil
}

// placeholderCertBody stands in for certificate PEM text, which no Vigil
// logic reads.
const placeholderCertBody = "-----BEGIN CERTIFICATE-----\nYXdzZW11IHBsYWNlaG9sZGVyIGNlcnRpZmljYXRl\n-----END CERTIFICATE-----\n"

func (s *Server) iamListSigningCertificates(r *request) (any, *apiError) {
	t, err := s.target(r)
	if err != nil {
		return nil, err
	}
	var certs []certificateXML
	for _, c := range *t.certs() {
		certs = append(certs, certificateXML{UserName: t.userName(), CertificateId: c.ID, CertificateBody: placeholderCertBody, Status: c.Status, UploadDate: isoTime(c.UploadDate)})
	}
	out, truncated, marker, err := iamPage(r, certs)
	if err != nil {
		return nil, err
	}
	return struct {
		Certificates members[certificateXML] `xml:"Certificates"`
		IsTruncated  bool                    `xml:"IsTruncated"`
		Marker       string                  `xml:"Marker,omitempty"`
	}{out, truncated, marker}, nil
}

func (s *Server) iamListMFADevices(r *request) (any, *apiError) {
	t, err := s.target(r)
	if err != nil {
		return nil, err
	}
	var devices []mfaDeviceXML
	for _, m := range *t.mfas() {
		devices = append(devices, mfaDeviceXML{UserName: t.userName(), SerialNumber: m.Serial, EnableDate: isoTime(m.EnableDate)})
	}
	out, truncated, marker, err := iamPage(r, devices)
	if err != nil {
		return nil, err
	}
	return struct {
		MFADevices  members[mfaDeviceXML] `xml:"MFADevices"`
		IsTruncated bool                  `xml:"IsTruncated"`
		Marker      string                `xml:"Marker,omitempty"`
	}{out, truncated, marker}, nil
}

func (s *Server) loginProfile(t iamTarget) (loginProfileXML, bool) {
	if t.user == nil {
		root := &t.acct.Root
		created := root.CreateDate
		if root.PasswordLastChanged != nil {
			created = *root.PasswordLastChanged
		}
		return loginProfileXML{CreateDate: isoTime(created)}, root.Password
	}
	created := t.user.CreateDate
	if t.user.PasswordLastChanged != nil {
		created = *t.user.PasswordLastChanged
	}
	return loginProfileXML{UserName: t.user.Name, CreateDate: isoTime(created)}, t.user.Password
}

func errNoLoginProfile(t iamTarget) *apiError {
	return newError("NoSuchEntity", "Login Profile for User %s cannot be found.", t.displayName())
}

func (s *Server) iamGetLoginProfile(r *request) (any, *apiError) {
	t, err := s.target(r)
	if err != nil {
		return nil, err
	}
	lp, ok := s.loginProfile(t)
	if !ok {
		return nil, errNoLoginProfile(t)
	}
	return struct {
		LoginProfile loginProfileXML `xml:"LoginProfile"`
	}{lp}, nil
}

// iamCreateLoginProfile gives the target a console password. An AssumeRoot
// session (IAMCreateRootUserPassword) must omit Password, as the model
// requires; everyone else must send one. The password itself is dropped:
// only its existence is state.
func (s *Server) iamCreateLoginProfile(r *request) (any, *apiError) {
	t, err := s.target(r)
	if err != nil {
		return nil, err
	}
	hasPassword := r.form.Has("Password")
	if r.caller.kind == kindAssumedRoot && hasPassword {
		return nil, errValidation("Password must be omitted when calling with an AssumeRoot session")
	}
	if r.caller.kind != kindAssumedRoot && !hasPassword {
		return nil, errMissingParam("Password")
	}
	if _, exists := s.loginProfile(t); exists {
		return nil, newError("EntityAlreadyExists", "Login Profile for user %s already exists.", t.displayName())
	}
	now := r.now
	if t.user == nil {
		t.acct.Root.Password = true
		t.acct.Root.PasswordLastChanged = &now
	} else {
		t.user.Password = true
		t.user.PasswordLastChanged = &now
	}
	lp, _ := s.loginProfile(t)
	lp.PasswordResetRequired = r.param("PasswordResetRequired") == "true"
	return struct {
		LoginProfile loginProfileXML `xml:"LoginProfile"`
	}{lp}, nil
}

func (s *Server) iamDeleteLoginProfile(r *request) (any, *apiError) {
	t, err := s.target(r)
	if err != nil {
		return nil, err
	}
	if _, ok := s.loginProfile(t); !ok {
		return nil, errNoLoginProfile(t)
	}
	if t.user == nil {
		t.acct.Root.Password = false
		t.acct.Root.PasswordLastChanged = nil
	} else {
		t.user.Password = false
		t.user.PasswordLastChanged = nil
	}
	return nil, nil
}

func (s *Server) iamGetUser(r *request) (any, *apiError) {
	t, err := s.target(r)
	if err != nil {
		return nil, err
	}
	u := s.rootUserXML(t.acct)
	if t.user != nil {
		u = s.userXML(t.acct, t.user)
	}
	return struct {
		User *userXML `xml:"User"`
	}{u}, nil
}

func (s *Server) iamListUsers(r *request) (any, *apiError) {
	a := r.caller.account
	prefix := r.param("PathPrefix")
	var users []*userXML
	for _, u := range sortedUsers(a) {
		if strings.HasPrefix(u.Path, prefix) {
			users = append(users, s.userXML(a, u))
		}
	}
	out, truncated, marker, err := iamPage(r, users)
	if err != nil {
		return nil, err
	}
	return struct {
		Users       members[*userXML] `xml:"Users"`
		IsTruncated bool              `xml:"IsTruncated"`
		Marker      string            `xml:"Marker,omitempty"`
	}{out, truncated, marker}, nil
}

func (s *Server) iamListAccountAliases(r *request) (any, *apiError) {
	var aliases []string
	if a := r.caller.account.Alias; a != "" {
		aliases = append(aliases, a)
	}
	return struct {
		AccountAliases members[string] `xml:"AccountAliases"`
		IsTruncated    bool            `xml:"IsTruncated"`
	}{aliases, false}, nil
}

// iamGetAccessKeyLastUsed looks the key up anywhere in the caller's
// account. A key that is not there gets NoSuchEntity (AWS's answer is
// UNVERIFIED; the model lists no error for this operation).
func (s *Server) iamGetAccessKeyLastUsed(r *request) (any, *apiError) {
	id := r.param("AccessKeyId")
	if id == "" {
		return nil, errMissingParam("AccessKeyId")
	}
	a := r.caller.account
	var key *AccessKey
	owner := iamTarget{acct: a}
	for i := range a.Root.AccessKeys {
		if a.Root.AccessKeys[i].ID == id {
			key = &a.Root.AccessKeys[i]
		}
	}
	for i := range a.Users {
		for j := range a.Users[i].AccessKeys {
			if a.Users[i].AccessKeys[j].ID == id {
				key, owner = &a.Users[i].AccessKeys[j], iamTarget{acct: a, user: &a.Users[i]}
			}
		}
	}
	if key == nil {
		return nil, newError("NoSuchEntity", "The Access Key with id %s cannot be found.", id)
	}
	if r.caller.kind == kindAssumedRoot && owner.user != nil {
		// The task policies allow this action on root's keys only.
		return nil, errAccessDenied(r.caller.arn(s.world.Partition), "iam:GetAccessKeyLastUsed",
			userARN(s.world.Partition, a.ID, owner.user.Path, owner.user.Name), "with an explicit deny in an identity-based policy")
	}
	type lastUsed struct {
		LastUsedDate *isoTime `xml:"LastUsedDate,omitempty"`
		ServiceName  string   `xml:"ServiceName"`
		Region       string   `xml:"Region"`
	}
	lu := lastUsed{ServiceName: "N/A", Region: "N/A"}
	if l := key.LastUsed; l != nil {
		lu.LastUsedDate = isoPtr(&l.Date)
		lu.ServiceName = orNA(l.Service)
		lu.Region = orNA(l.Region)
	}
	return struct {
		UserName          string   `xml:"UserName,omitempty"`
		AccessKeyLastUsed lastUsed `xml:"AccessKeyLastUsed"`
	}{owner.userName(), lu}, nil
}

func orNA(s string) string {
	if s == "" {
		return "N/A"
	}
	return s
}

func (s *Server) iamCreateAccessKey(r *request) (any, *apiError) {
	t, err := s.target(r)
	if err != nil {
		return nil, err
	}
	keys := t.keys()
	if len(*keys) >= 2 {
		return nil, newError("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")
	}
	k := AccessKey{
		ID:         s.newAccessKeyID("AKIA"),
		Secret:     s.randomString(40),
		Status:     StatusActive,
		CreateDate: r.now,
	}
	*keys = append(*keys, k)
	s.keyOwners[k.ID] = keyOwner{account: t.acct.ID, user: t.userName()}
	type accessKeyXML struct {
		UserName        string  `xml:"UserName,omitempty"`
		AccessKeyId     string  `xml:"AccessKeyId"`
		Status          string  `xml:"Status"`
		SecretAccessKey string  `xml:"SecretAccessKey"`
		CreateDate      isoTime `xml:"CreateDate"`
	}
	return struct {
		AccessKey accessKeyXML `xml:"AccessKey"`
	}{accessKeyXML{t.userName(), k.ID, k.Status, k.Secret, isoTime(k.CreateDate)}}, nil
}

func (s *Server) findKey(r *request) (iamTarget, int, *apiError) {
	t, err := s.target(r)
	if err != nil {
		return t, 0, err
	}
	id := r.param("AccessKeyId")
	if id == "" {
		return t, 0, errMissingParam("AccessKeyId")
	}
	i := slices.IndexFunc(*t.keys(), func(k AccessKey) bool { return k.ID == id })
	if i < 0 {
		return t, 0, newError("NoSuchEntity", "The Access Key with id %s cannot be found.", id)
	}
	return t, i, nil
}

// iamDeleteAccessKey may delete the very key signing the request: AWS
// allows it, and the next request signed with it fails InvalidClientTokenId.
func (s *Server) iamDeleteAccessKey(r *request) (any, *apiError) {
	t, i, err := s.findKey(r)
	if err != nil {
		return nil, err
	}
	keys := t.keys()
	delete(s.keyOwners, (*keys)[i].ID)
	*keys = slices.Delete(*keys, i, i+1)
	return nil, nil
}

func (s *Server) iamUpdateAccessKey(r *request) (any, *apiError) {
	status := r.param("Status")
	switch status {
	case StatusActive, StatusInactive:
	case "":
		return nil, errMissingParam("Status")
	default:
		return nil, errValidation("1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status)
	}
	t, i, err := s.findKey(r)
	if err != nil {
		return nil, err
	}
	(*t.keys())[i].Status = status
	return nil, nil
}

func (s *Server) iamDeleteSigningCertificate(r *request) (any, *apiError) {
	t, err := s.target(r)
	if err != nil {
		return nil, err
	}
	id := r.param("CertificateId")
	if id == "" {
		return nil, errMissingParam("CertificateId")
	}
	certs := t.certs()
	i := slices.IndexFunc(*certs, func(c Cert) bool { return c.ID == id })
	if i < 0 {
		return nil, newError("NoSuchEntity", "The Certificate with id %s cannot be found.", id)
	}
	*certs = slices.Delete(*certs, i, i+1)
	return nil, nil
}

// iamDeactivateMFADevice unassigns a device. A virtual device keeps
// existing, unassigned, as in AWS (only DeleteVirtualMFADevice removes it).
func (s *Server) iamDeactivateMFADevice(r *request) (any, *apiError) {
	t, err := s.target(r)
	if err != nil {
		return nil, err
	}
	serial := r.param("SerialNumber")
	if serial == "" {
		return nil, errMissingParam("SerialNumber")
	}
	mfas := t.mfas()
	i := slices.IndexFunc(*mfas, func(m MFADevice) bool { return m.Serial == serial })
	if i < 0 {
		return nil, newError("NoSuchEntity", "MFA Device with serial number %s does not exist.", serial)
	}
	if (*mfas)[i].Type == MFAVirtual {
		t.acct.UnassignedVirtualMFA = append(t.acct.UnassignedVirtualMFA, serial)
	}
	*mfas = slices.Delete(*mfas, i, i+1)
	return nil, nil
}
