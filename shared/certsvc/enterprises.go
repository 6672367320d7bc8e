package certsvc

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"microcert/shared/domain"
)

// EnterpriseInput is a new profile as the applicant submits it. RegionCode
// is what the applicant declared, if anything: it is checked against the
// USCC (region_mismatch) and never stored.
type EnterpriseInput struct {
	Name                string
	USCC                string
	LegalRep            domain.LegalRep
	RegisteredAddress   string
	OperatingAddress    string
	RegionCode          string
	HasCorporateAccount bool
}

// EnterprisePatch corrects a profile; nil fields stay as they are.
type EnterprisePatch struct {
	Name                *string
	LegalRepName        *string
	LegalRepIDNumber    *string
	LegalRepPhone       *string
	RegisteredAddress   *string
	OperatingAddress    *string
	RegionCode          *string
	HasCorporateAccount *bool
	// Version, when sent, must be the stored one.
	Version *int
}

// EnterpriseView is a profile with its certifications, and the caller's
// role in the enterprise ("" for staff who are not members).
type EnterpriseView struct {
	Enterprise     *domain.Enterprise
	Certifications []domain.Certification
	MyRole         domain.MemberRole
}

// CreateEnterprise registers a profile; the caller becomes its owner (a
// member with role owner, written in the same transaction). A USCC another
// profile holds is 409 enterprise_exists, with the way to dispute it.
func (s *Service) CreateEnterprise(ctx context.Context, by domain.Actor, in EnterpriseInput) (*domain.Enterprise, error) {
	e, err := s.newProfile(by, in)
	if err != nil {
		return nil, err
	}
	err = s.store.Commit(ctx, &domain.Change{
		Enterprises: []domain.EnterpriseWrite{{Enterprise: e, Create: true}},
		Members:     []domain.MemberWrite{domain.OwnerMembership(e)},
	})
	if domain.CodeOf(err) == "enterprise_exists" {
		return nil, errEnterpriseExists
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// DisputeRoute is where the owner of a squatted USCC starts a dispute.
const DisputeRoute = "/v1/disputes"

// errEnterpriseExists answers a registration of a USCC another profile
// holds, with the way out: a dispute (POST /v1/disputes with the same
// body).
var errEnterpriseExists = domain.E(domain.KindConflict, "enterprise_exists",
	"该统一社会信用代码已注册企业资料。如果这是贵企业的代码而资料并非贵企业所建，可以提起争议：以相同内容 POST "+DisputeRoute+"，并完成营业执照与法定代表人核验。",
	"An enterprise with this USCC is already registered. If the USCC is your enterprise's and you did not register it, dispute it: POST the same body to "+DisputeRoute+", then prove the business license and the legal representative.").
	With("dispute", map[string]string{"method": "POST", "href": DisputeRoute})

// newProfile validates a new profile and builds it, owned by the caller.
func (s *Service) newProfile(by domain.Actor, in EnterpriseInput) (*domain.Enterprise, error) {
	now := s.clock.Now()
	in.USCC = domain.NormalizeUSCC(in.USCC)
	in.LegalRep.IDNumber = strings.ToUpper(strings.TrimSpace(in.LegalRep.IDNumber))
	in.LegalRep.Phone = domain.NormalizePhone(in.LegalRep.Phone)
	var fields []domain.FieldError
	fields = append(fields, lineField("name", in.Name, 1, 100)...)
	fields = append(fields, errField("uscc", domain.ValidateUSCC(in.USCC))...)
	fields = append(fields, lineField("legalRep.name", in.LegalRep.Name, 1, 50)...)
	fields = append(fields, errField("legalRep.idNumber", domain.ValidateIDNumber(in.LegalRep.IDNumber, now))...)
	fields = append(fields, errField("legalRep.phone", domain.ValidatePhone(in.LegalRep.Phone))...)
	fields = append(fields, lineField("registeredAddress", in.RegisteredAddress, 1, 200)...)
	fields = append(fields, lineField("operatingAddress", in.OperatingAddress, 1, 200)...)
	fields = append(fields, declaredRegion(in.RegionCode, in.USCC)...)
	if err := fieldsError(fields); err != nil {
		return nil, err
	}
	e := &domain.Enterprise{
		ID:                  domain.NewID(),
		Name:                strings.TrimSpace(in.Name),
		USCC:                in.USCC,
		LegalRep:            domain.LegalRep{Name: strings.TrimSpace(in.LegalRep.Name), IDNumber: in.LegalRep.IDNumber, Phone: in.LegalRep.Phone},
		RegisteredAddress:   strings.TrimSpace(in.RegisteredAddress),
		OperatingAddress:    strings.TrimSpace(in.OperatingAddress),
		HasCorporateAccount: in.HasCorporateAccount,
		OwnerID:             by.UserID,
		Status:              domain.EnterpriseActive,
		Version:             1,
		CreatedAt:           now,
		UpdatedAt:           now,
	}
	return e, nil
}

// GetEnterprise returns a profile the caller may see: its members', or
// any for reviewers and admins. Others get not found, never forbidden.
func (s *Service) GetEnterprise(ctx context.Context, by domain.Actor, id string) (*EnterpriseView, error) {
	st, as, err := s.enterpriseAs(ctx, by, id, domain.PermRead)
	if err != nil {
		return nil, err
	}
	return &EnterpriseView{Enterprise: st.Enterprise, Certifications: st.Certifications, MyRole: as.MemberRole}, nil
}

// PatchEnterprise corrects the profile; the USCC never changes. Version is
// optional: without it the server reads and applies again when another
// write got in between; with it a stale version is 409 version_conflict.
//
// Fields a reviewer vouched for (name, legal rep, addresses, the corporate
// account) cannot change by PATCH while the enterprise holds an active or
// overdue certification: 409 change_requires_review, and a change case
// carries them through review. hasCorporateAccount cannot be turned off
// during a micro-deposit lock's cool-down (that would escape the lock).
func (s *Service) PatchEnterprise(ctx context.Context, by domain.Actor, id string, p EnterprisePatch) (*EnterpriseView, error) {
	now := s.clock.Now()
	norm, fields := p.normalized(now)
	if err := fieldsError(fields); err != nil {
		return nil, err
	}
	var role domain.MemberRole
	st, next, err := s.writeEnterprise(ctx, by, id, domain.PermEditProfile, p.Version, func(st *domain.EnterpriseState, as domain.Actor, next *domain.Enterprise, _ *domain.Change, now time.Time) error {
		role = as.MemberRole
		if len(norm.reviewedFields()) > 0 && domain.HoldsCertification(st.Certifications, now, s.rules) {
			return domain.E(domain.KindConflict, "change_requires_review",
				"企业已认证，名称、法定代表人、地址和对公账户的变更须通过信息变更申请（kind=change）审核。",
				"The enterprise is certified: changes of name, legal representative, addresses or corporate account go through a change case (kind change) and its review.").
				With("fields", norm.reviewedFields())
		}
		if norm.RegionCode != nil {
			// The USCC never changes, so neither does the region: a
			// declared one is only checked.
			if err := fieldsError(declaredRegion(*norm.RegionCode, st.Enterprise.USCC)); err != nil {
				return err
			}
		}
		if norm.HasCorporateAccount != nil && !*norm.HasCorporateAccount && st.Enterprise.HasCorporateAccount && st.Deposits.Locked(now) {
			return domain.E(domain.KindConflict, "verification_locked",
				"打款验证锁定期间不能改为无对公账户。", "The corporate account cannot be given up while a micro-deposit lock is in force.").
				With("nextDepositAt", st.Deposits.NextDepositAt(now, s.rules).UTC())
		}
		*next = norm.apply(*next)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &EnterpriseView{Enterprise: next, Certifications: st.Certifications, MyRole: role}, nil
}

// normalizedPatch is a patch with its values trimmed and checked; nil
// fields stay as they are.
type normalizedPatch struct {
	Name, RegisteredAddress, OperatingAddress *string
	RepName, RepIDNumber, RepPhone            *string
	RegionCode                                *string
	HasCorporateAccount                       *bool
}

// reviewedFields names the fields of the patch a reviewer vouched for.
func (n normalizedPatch) reviewedFields() []string {
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(n.Name != nil, "name")
	add(n.RepName != nil || n.RepIDNumber != nil || n.RepPhone != nil, "legalRep")
	add(n.RegisteredAddress != nil, "registeredAddress")
	add(n.OperatingAddress != nil, "operatingAddress")
	add(n.HasCorporateAccount != nil, "hasCorporateAccount")
	return out
}

func (n normalizedPatch) apply(e domain.Enterprise) domain.Enterprise {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&e.Name, n.Name)
	set(&e.RegisteredAddress, n.RegisteredAddress)
	set(&e.OperatingAddress, n.OperatingAddress)
	set(&e.LegalRep.Name, n.RepName)
	set(&e.LegalRep.IDNumber, n.RepIDNumber)
	set(&e.LegalRep.Phone, n.RepPhone)
	if n.HasCorporateAccount != nil {
		e.HasCorporateAccount = *n.HasCorporateAccount
	}
	return e
}

// normalized trims and checks the patch's values.
func (p EnterprisePatch) normalized(now time.Time) (normalizedPatch, []domain.FieldError) {
	var n normalizedPatch
	var fields []domain.FieldError
	str := func(name string, v *string, max int) *string {
		if v == nil {
			return nil
		}
		fields = append(fields, lineField(name, *v, 1, max)...)
		t := strings.TrimSpace(*v)
		return &t
	}
	n.Name = str("name", p.Name, 100)
	n.RegisteredAddress = str("registeredAddress", p.RegisteredAddress, 200)
	n.OperatingAddress = str("operatingAddress", p.OperatingAddress, 200)
	n.RepName = str("legalRep.name", p.LegalRepName, 50)
	if p.LegalRepIDNumber != nil {
		v := strings.ToUpper(strings.TrimSpace(*p.LegalRepIDNumber))
		fields = append(fields, errField("legalRep.idNumber", domain.ValidateIDNumber(v, now))...)
		n.RepIDNumber = &v
	}
	if p.LegalRepPhone != nil {
		v := domain.NormalizePhone(*p.LegalRepPhone)
		fields = append(fields, errField("legalRep.phone", domain.ValidatePhone(v))...)
		n.RepPhone = &v
	}
	n.RegionCode = p.RegionCode // checked against the USCC once read
	n.HasCorporateAccount = p.HasCorporateAccount
	return n, fields
}

// validateChange checks a change case's new values (the same rules as the
// profile's own) and normalizes them in place.
func (s *Service) validateChange(p *domain.ProfileChange) []domain.FieldError {
	if p.Empty() {
		return []domain.FieldError{{Field: "change", Code: "change_required",
			Message: domain.Text{Zh: "信息变更申请须至少包含一项新值。", En: "A change case needs at least one new value."}}}
	}
	var fields []domain.FieldError
	str := func(name string, v *string, max int) {
		if v != nil {
			fields = append(fields, lineField(name, *v, 1, max)...)
			*v = strings.TrimSpace(*v)
		}
	}
	str("change.name", p.Name, 100)
	str("change.registeredAddress", p.RegisteredAddress, 200)
	str("change.operatingAddress", p.OperatingAddress, 200)
	if r := p.LegalRep; r != nil {
		str("change.legalRep.name", &r.Name, 50)
		r.IDNumber = strings.ToUpper(strings.TrimSpace(r.IDNumber))
		fields = append(fields, errField("change.legalRep.idNumber", domain.ValidateIDNumber(r.IDNumber, s.clock.Now()))...)
		r.Phone = domain.NormalizePhone(r.Phone)
		fields = append(fields, errField("change.legalRep.phone", domain.ValidatePhone(r.Phone))...)
	}
	return fields
}

// MyEnterprise is one enterprise of the sign-in list, with the caller's
// role in it.
type MyEnterprise struct {
	Enterprise *domain.Enterprise
	Role       domain.MemberRole
}

// ListMyEnterprises pages the enterprises the caller is a member of, in
// the order joined, each with the caller's role: what an app shows after
// sign-in (and how it finds a profile whose creation response it never
// received). Two reads: the caller's memberships (GSI1), their profiles
// (one BatchGetItem). A membership whose profile is not readable yet (the
// index is ahead of nothing: both are written together) is left out.
func (s *Service) ListMyEnterprises(ctx context.Context, by domain.Actor, p domain.Page) ([]MyEnterprise, string, error) {
	ms, next, err := s.store.ListMemberships(ctx, by.UserID, p)
	if err != nil || len(ms) == 0 {
		return []MyEnterprise{}, next, err
	}
	ids := make([]string, 0, len(ms))
	for _, m := range ms {
		ids = append(ids, m.EnterpriseID)
	}
	ents, err := s.store.GetEnterprises(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	out := make([]MyEnterprise, 0, len(ms))
	for _, m := range ms {
		if e, ok := ents[m.EnterpriseID]; ok {
			out = append(out, MyEnterprise{Enterprise: e, Role: m.Role})
		}
	}
	return out, next, nil
}

// ListCases pages the enterprise's cases, newest first.
func (s *Service) ListCases(ctx context.Context, by domain.Actor, enterpriseID string, p domain.Page) ([]domain.Case, string, error) {
	if _, _, err := s.enterpriseAs(ctx, by, enterpriseID, domain.PermRead); err != nil {
		return nil, "", err
	}
	return s.store.ListCases(ctx, enterpriseID, p)
}

// ListHistory pages the enterprise's history, newest first: member
// changes, ownership transfers, profile changes, the USCC's moves and the
// certifications' transitions, each with who did it as which role.
func (s *Service) ListHistory(ctx context.Context, by domain.Actor, enterpriseID string, p domain.Page) ([]domain.HistoryEntry, string, error) {
	if _, _, err := s.enterpriseAs(ctx, by, enterpriseID, domain.PermRead); err != nil {
		return nil, "", err
	}
	return s.store.ListEnterpriseHistory(ctx, enterpriseID, p)
}

// textField checks a required free-text field's length in characters.
func textField(name, v string, min, max int) []domain.FieldError {
	n := utf8.RuneCountInString(strings.TrimSpace(v))
	switch {
	case n < min:
		return []domain.FieldError{{Field: name, Code: "required", Message: domain.Text{Zh: name + " 不能为空。", En: name + " is required."}}}
	case n > max || !utf8.ValidString(v):
		return []domain.FieldError{{Field: name, Code: "too_long", Message: domain.Text{Zh: name + " 过长。", En: name + " is too long."}}}
	}
	return nil
}

// lineField is textField for a name or an address: also no control,
// bidirectional-override or invisible characters (422
// invalid_characters).
func lineField(name, v string, min, max int) []domain.FieldError {
	if f := textField(name, v, min, max); f != nil {
		return f
	}
	if f := domain.CheckLineText(name, v); f != nil {
		return []domain.FieldError{*f}
	}
	return nil
}

// declaredRegion checks an optional declared region code: 6 digits, and on
// one branch with the region in the USCC (an invalid USCC is reported on
// its own field).
func declaredRegion(code, uscc string) []domain.FieldError {
	if code == "" {
		return nil
	}
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return []domain.FieldError{{Field: "regionCode", Code: "invalid_region_code",
			Message: domain.Text{Zh: "地区代码应为 6 位数字行政区划代码。", En: "regionCode must be a 6-digit administrative division code."}}}
	}
	if f := domain.CheckDeclaredRegion(code, uscc); f != nil {
		return []domain.FieldError{*f}
	}
	return nil
}

// errField turns a validator's error into a field error with its code.
func errField(name string, err error) []domain.FieldError {
	if err == nil {
		return nil
	}
	var msg domain.Text
	if e, ok := err.(*domain.Error); ok {
		msg = e.Message
	}
	return []domain.FieldError{{Field: name, Code: domain.CodeOf(err), Message: msg}}
}

// fieldsError makes one 422 from field errors. When there is exactly one,
// its code becomes the problem's code (e.g. invalid_uscc) so apps can switch
// on it directly.
func fieldsError(fields []domain.FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	e := &domain.Error{Kind: domain.KindInvalid, Code: "validation_failed",
		Message: domain.Text{Zh: "请求参数无效。", En: "The request is invalid."}, Fields: fields}
	if len(fields) == 1 {
		e.Code = fields[0].Code
		if fields[0].Message.En != "" {
			e.Message = fields[0].Message
		}
	}
	return e
}
