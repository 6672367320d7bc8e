package certsvc

import (
	"context"
	"strings"
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
	Version             int
}

// EnterpriseView is a profile with its certifications.
type EnterpriseView struct {
	Enterprise     *domain.Enterprise
	Certifications []domain.Certification
}

// CreateEnterprise registers a profile owned by the caller.
func (s *Service) CreateEnterprise(ctx context.Context, by domain.Actor, in EnterpriseInput) (*domain.Enterprise, error) {
	now := s.clock.Now()
	in.USCC = domain.NormalizeUSCC(in.USCC)
	in.LegalRep.IDNumber = strings.ToUpper(strings.TrimSpace(in.LegalRep.IDNumber))
	in.LegalRep.Phone = domain.NormalizePhone(in.LegalRep.Phone)
	var fields []domain.FieldError
	fields = append(fields, textField("name", in.Name, 1, 100)...)
	fields = append(fields, errField("uscc", domain.ValidateUSCC(in.USCC))...)
	fields = append(fields, textField("legalRep.name", in.LegalRep.Name, 1, 50)...)
	fields = append(fields, errField("legalRep.idNumber", domain.ValidateIDNumber(in.LegalRep.IDNumber, now))...)
	fields = append(fields, errField("legalRep.phone", domain.ValidatePhone(in.LegalRep.Phone))...)
	fields = append(fields, textField("registeredAddress", in.RegisteredAddress, 1, 200)...)
	fields = append(fields, textField("operatingAddress", in.OperatingAddress, 1, 200)...)
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
		Version:             1,
		CreatedAt:           now,
		UpdatedAt:           now,
	}
	err := s.store.Commit(ctx, &domain.Change{Enterprises: []domain.EnterpriseWrite{{Enterprise: e, Create: true}}})
	if domain.CodeOf(err) == "enterprise_exists" {
		return nil, domain.E(domain.KindConflict, "enterprise_exists",
			"该统一社会信用代码已注册企业资料。", "An enterprise with this USCC is already registered.")
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// GetEnterprise returns a profile the caller may see: its owner's, or any
// for reviewers and admins. Others get not found, never forbidden.
func (s *Service) GetEnterprise(ctx context.Context, by domain.Actor, id string) (*EnterpriseView, error) {
	e, certs, err := s.enterpriseFor(ctx, by, id)
	if err != nil {
		return nil, err
	}
	return &EnterpriseView{Enterprise: e, Certifications: certs}, nil
}

func (s *Service) enterpriseFor(ctx context.Context, by domain.Actor, id string) (*domain.Enterprise, []domain.Certification, error) {
	if !domain.ValidID(id) {
		return nil, nil, domain.ErrNotFound
	}
	e, certs, err := s.store.GetEnterprise(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if e.OwnerID != by.UserID && !by.CanReview() {
		return nil, nil, domain.ErrNotFound
	}
	return e, certs, nil
}

// ownedEnterprise is enterpriseFor restricted to the owner (mutations).
func (s *Service) ownedEnterprise(ctx context.Context, by domain.Actor, id string) (*domain.Enterprise, []domain.Certification, error) {
	e, certs, err := s.enterpriseFor(ctx, by, id)
	if err != nil {
		return nil, nil, err
	}
	if e.OwnerID != by.UserID {
		if by.CanReview() {
			return nil, nil, domain.ErrForbidden
		}
		return nil, nil, domain.ErrNotFound
	}
	return e, certs, nil
}

// PatchEnterprise corrects the profile; the USCC never changes.
func (s *Service) PatchEnterprise(ctx context.Context, by domain.Actor, id string, p EnterprisePatch) (*EnterpriseView, error) {
	e, certs, err := s.ownedEnterprise(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if p.Version != e.Version {
		return nil, domain.ErrVersionConflict
	}
	now := s.clock.Now()
	next := *e
	var fields []domain.FieldError
	if p.Name != nil {
		fields = append(fields, textField("name", *p.Name, 1, 100)...)
		next.Name = strings.TrimSpace(*p.Name)
	}
	if p.LegalRepName != nil {
		fields = append(fields, textField("legalRep.name", *p.LegalRepName, 1, 50)...)
		next.LegalRep.Name = strings.TrimSpace(*p.LegalRepName)
	}
	if p.LegalRepIDNumber != nil {
		v := strings.ToUpper(strings.TrimSpace(*p.LegalRepIDNumber))
		fields = append(fields, errField("legalRep.idNumber", domain.ValidateIDNumber(v, now))...)
		next.LegalRep.IDNumber = v
	}
	if p.LegalRepPhone != nil {
		v := domain.NormalizePhone(*p.LegalRepPhone)
		fields = append(fields, errField("legalRep.phone", domain.ValidatePhone(v))...)
		next.LegalRep.Phone = v
	}
	if p.RegisteredAddress != nil {
		fields = append(fields, textField("registeredAddress", *p.RegisteredAddress, 1, 200)...)
		next.RegisteredAddress = strings.TrimSpace(*p.RegisteredAddress)
	}
	if p.OperatingAddress != nil {
		fields = append(fields, textField("operatingAddress", *p.OperatingAddress, 1, 200)...)
		next.OperatingAddress = strings.TrimSpace(*p.OperatingAddress)
	}
	if p.RegionCode != nil {
		// The USCC never changes, so neither does the region: a declared
		// one is only checked.
		fields = append(fields, declaredRegion(*p.RegionCode, e.USCC)...)
	}
	if p.HasCorporateAccount != nil {
		next.HasCorporateAccount = *p.HasCorporateAccount
	}
	if err := fieldsError(fields); err != nil {
		return nil, err
	}
	next.Version = e.Version + 1
	next.UpdatedAt = now
	if err := s.store.Commit(ctx, &domain.Change{Enterprises: []domain.EnterpriseWrite{{Enterprise: &next, ExpectVersion: e.Version}}}); err != nil {
		return nil, err
	}
	return &EnterpriseView{Enterprise: &next, Certifications: certs}, nil
}

// ListMyEnterprises pages the profiles the caller owns, oldest first: what
// an app shows after sign-in (and how it finds a profile whose creation
// response it never received).
func (s *Service) ListMyEnterprises(ctx context.Context, by domain.Actor, p domain.Page) ([]domain.Enterprise, string, error) {
	return s.store.ListEnterprises(ctx, by.UserID, p)
}

// ListNotifications pages the enterprise's inbox, newest first.
func (s *Service) ListNotifications(ctx context.Context, by domain.Actor, enterpriseID string, p domain.Page) ([]domain.Notification, string, error) {
	if _, _, err := s.enterpriseFor(ctx, by, enterpriseID); err != nil {
		return nil, "", err
	}
	return s.store.ListNotifications(ctx, enterpriseID, p)
}

// ListCases pages the enterprise's cases, newest first.
func (s *Service) ListCases(ctx context.Context, by domain.Actor, enterpriseID string, p domain.Page) ([]domain.Case, string, error) {
	if _, _, err := s.enterpriseFor(ctx, by, enterpriseID); err != nil {
		return nil, "", err
	}
	return s.store.ListCases(ctx, enterpriseID, p)
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
