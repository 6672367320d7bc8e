package domain

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func capIntPtr(n int) *int { return &n }

func TestCapabilitiesFor(t *testing.T) {
	now := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
	exp := now.Add(100 * 24 * time.Hour)
	uncertified := Capabilities{ExternalContactsLimit: capIntPtr(20000), Payments: "none", DataTools: "basic", SearchExposure: "low"}
	suspended := uncertified
	suspended.Suspended = true
	cert := func(ty CertType, s CertStatus, expires time.Time) *Certification {
		return &Certification{Type: ty, Status: s, ExpiresAt: expires}
	}
	tests := []struct {
		name string
		cert *Certification
		want Capabilities
	}{
		{"never held", nil, uncertified},
		{"active wecom: unlimited contacts", cert(CertWeCom, CertActive, exp), Capabilities{
			Certified: true, ExternalContactsLimit: nil, Payments: "none", DataTools: "basic", SearchExposure: "badge_first"}},
		{"active official account: payments", cert(CertOfficialAccount, CertActive, exp), Capabilities{
			Certified: true, ExternalContactsLimit: capIntPtr(20000), Payments: "native", DataTools: "basic", SearchExposure: "badge_first"}},
		{"active mini program: payments, data tools, brand", cert(CertMiniProgram, CertActive, exp), Capabilities{
			Certified: true, ExternalContactsLimit: capIntPtr(20000), Payments: "native", DataTools: "advanced", SearchExposure: "badge_first",
			BrandMiniProgramEligible: true}},
		{"overdue: suspended", cert(CertMiniProgram, CertOverdue, now.Add(-24*time.Hour)), suspended},
		{"active past expiry (job not run yet) is overdue", cert(CertWeCom, CertActive, now.Add(-time.Second)), suspended},
		{"overdue past the lapse period is lapsed", cert(CertWeCom, CertOverdue, now.Add(-31*24*time.Hour)), uncertified},
		{"lapsed", cert(CertWeCom, CertLapsed, now.Add(-40*24*time.Hour)), uncertified},
		{"cancelled", cert(CertOfficialAccount, CertCancelled, exp), uncertified},
		{"revoked", cert(CertMiniProgram, CertRevoked, exp), uncertified},
		{"unknown type", cert("bogus", CertActive, exp), uncertified},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, CapabilitiesFor(tt.cert, now, DefaultRules)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCapabilitiesForWithRules(t *testing.T) {
	r := DefaultRules.Clone()
	r.UncertifiedExternalContacts = 500
	got := CapabilitiesFor(nil, time.Time{}, r)
	if got.ExternalContactsLimit == nil || *got.ExternalContactsLimit != 500 {
		t.Errorf("limit = %v, want 500", got.ExternalContactsLimit)
	}
	// results do not share the limit
	*got.ExternalContactsLimit = 1
	if again := CapabilitiesFor(nil, time.Time{}, r); *again.ExternalContactsLimit != 500 {
		t.Errorf("limit shared between results")
	}
}

func TestCapabilitiesJSON(t *testing.T) {
	now := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
	got, _ := json.Marshal(CapabilitiesFor(&Certification{Type: CertWeCom, Status: CertActive, ExpiresAt: now.AddDate(1, 0, 0)}, now, DefaultRules))
	want := `{"certified":true,"suspended":false,"externalContactsLimit":null,"payments":"none","dataTools":"basic","searchExposure":"badge_first","brandMiniProgramEligible":false}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
