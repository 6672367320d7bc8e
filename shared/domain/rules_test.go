package domain

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDefaultRules(t *testing.T) {
	want := Rules{
		Currency: "CNY",
		FeeFen:   map[CaseKind]int64{KindInitial: 30000, KindAnnualReview: 30000, KindReinstatement: 30000, KindAppeal: 0},
		Subsidies: map[string]SubsidyProgram{"440300": {
			Code: "shenzhen_sme_digital", RegionCode: "440300", Percent: 50,
			Name: Text{Zh: "深圳市中小企业数字化转型专项", En: "Shenzhen SME digital-transformation program"},
		}},
		DepositMinFen: 1, DepositMaxFen: 99, DepositTTL: 72 * time.Hour, DepositAttempts: 3,
		DepositsPerWindow: 3, DepositWindow: 30 * 24 * time.Hour, DepositLockCooldown: 24 * time.Hour,
		VerificationSessionTTL:      15 * time.Minute,
		ReviewSLAWorkingDays:        5,
		ClaimTTL:                    2 * time.Hour,
		MaxChangeRequests:           3,
		LapseAfterDays:              30,
		ReminderDays:                []int{60, 30, 7, 1},
		AnnualReviewOpensMonths:     3,
		RetentionDays:               30,
		ExplanationMaxChars:         2000,
		UncertifiedExternalContacts: 20000,
		RefundRetryBase:             time.Minute,
		RefundRetryMax:              6 * time.Hour,
		RefundMaxAttempts:           10,
		RefundCheckAfter:            30 * time.Minute,
		InvitationTTL:               7 * 24 * time.Hour,
		ChannelRetry:                RetryPolicy{First: 30 * time.Second, Max: 10 * time.Minute, GiveUpAfter: time.Hour},
		WebhookRetry:                RetryPolicy{First: time.Minute, Max: 8 * time.Hour, GiveUpAfter: 72 * time.Hour},
	}
	if diff := cmp.Diff(want, DefaultRules); diff != "" {
		t.Errorf("DefaultRules (-want +got):\n%s", diff)
	}
	if err := DefaultRules.Validate(); err != nil {
		t.Errorf("DefaultRules.Validate() = %v", err)
	}
}

func TestRulesClone(t *testing.T) {
	c := DefaultRules.Clone()
	c.FeeFen[KindInitial] = 1
	c.Subsidies["110000"] = SubsidyProgram{Code: "x", Percent: 10}
	c.ReminderDays[0] = 90
	if DefaultRules.FeeFen[KindInitial] != 30000 || len(DefaultRules.Subsidies) != 1 || DefaultRules.ReminderDays[0] != 60 {
		t.Errorf("Clone shares state with DefaultRules: %+v", DefaultRules)
	}
}

func TestRulesValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Rules)
		ok     bool
	}{
		{"defaults", func(*Rules) {}, true},
		{"deposit max 100", func(r *Rules) { r.DepositMaxFen = 100 }, false},
		{"deposit min 0", func(r *Rules) { r.DepositMinFen = 0 }, false},
		{"zero claim TTL", func(r *Rules) { r.ClaimTTL = 0 }, false},
		{"longer claim TTL", func(r *Rules) { r.ClaimTTL = 4 * time.Hour }, true},
		{"7-day deposit window (e签宝)", func(r *Rules) { r.DepositTTL = 7 * 24 * time.Hour }, true},
		{"no attempts", func(r *Rules) { r.DepositAttempts = 0 }, false},
		{"zero SLA", func(r *Rules) { r.ReviewSLAWorkingDays = 0 }, false},
		{"negative fee", func(r *Rules) { r.FeeFen[KindAppeal] = -1 }, false},
		{"subsidy over 100%", func(r *Rules) { r.Subsidies["440300"] = SubsidyProgram{Code: "x", Percent: 101} }, false},
		{"reminder 0", func(r *Rules) { r.ReminderDays = []int{0} }, false},
		{"annual window 12 months", func(r *Rules) { r.AnnualReviewOpensMonths = 12 }, false},
		{"no currency", func(r *Rules) { r.Currency = "" }, false},
		{"no invitation TTL", func(r *Rules) { r.InvitationTTL = 0 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := DefaultRules.Clone()
			tt.modify(&r)
			err := r.Validate()
			if (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && CodeOf(err) != "invalid_rules" {
				t.Errorf("code = %q", CodeOf(err))
			}
		})
	}
}

func TestReminderDaysSorted(t *testing.T) {
	r := DefaultRules.Clone()
	r.ReminderDays = []int{1, 60, 7, 30, 7}
	if diff := cmp.Diff([]int{60, 30, 7, 1}, r.reminderDays()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
