package domain

import (
	"fmt"
	"sort"
	"time"
)

// Rules is THE table of microcert's business numbers. Every default lives
// here and nowhere else; configuration may override some
// fields of a copy (DefaultRules.Clone()). Every function that applies a
// rule takes the Rules it applies: shared/config loads them once per
// function and they are passed down from there, never read from
// DefaultRules on the way.
type Rules struct {
	// Currency of every amount.
	Currency string
	// FeeFen is the list price of a case per kind, in fen. A kind missing
	// from the map is free.
	FeeFen map[CaseKind]int64
	// Subsidies are regional programs keyed by administrative region code
	// (a 6-digit GB/T 2260 code; see FeeFor for how district codes match).
	Subsidies map[string]SubsidyProgram

	// Micro-deposit: the amount range, the time to confirm it and the
	// number of entries before the challenge locks.
	DepositMinFen   int64
	DepositMaxFen   int64
	DepositTTL      time.Duration
	DepositAttempts int
	// DepositsPerWindow micro-deposits at most per enterprise in any
	// DepositWindow, whatever case they belong to; after a lock none for
	// DepositLockCooldown.
	DepositsPerWindow   int
	DepositWindow       time.Duration
	DepositLockCooldown time.Duration

	// VerificationSessionTTL is how long a face or QR session stays open.
	VerificationSessionTTL time.Duration

	// ReviewSLAWorkingDays: reviewDueAt is the end of this many working days
	// after the submission day.
	ReviewSLAWorkingDays int
	// ClaimTTL is how long a reviewer's claim holds a case.
	ClaimTTL time.Duration
	// MaxChangeRequests: how many times a case may be sent back for more
	// material; after that a reviewer can only approve or reject.
	MaxChangeRequests int

	// LapseAfterDays: an overdue certification lapses when more than this
	// many days have passed since its expiry.
	LapseAfterDays int
	// ReminderDays are the expiry-reminder milestones, in days before
	// expiry.
	ReminderDays []int
	// AnnualReviewOpensMonths: the annual review may be opened this many
	// months before expiry.
	AnnualReviewOpensMonths int

	// RetentionDays: documents of withdrawn or rejected cases are kept this
	// many days after the case closed (PIPL: no longer than needed).
	RetentionDays int
	// ExplanationMaxChars is the longest appeal explanation, in characters
	// (runes, not bytes).
	ExplanationMaxChars int

	// UncertifiedExternalContacts is the external-contact cap of an
	// enterprise without certification (certified: unlimited).
	UncertifiedExternalContacts int

	// Refunds: an unanswered call to the provider is made again after
	// RefundRetryBase, doubling up to RefundRetryMax; after
	// RefundMaxAttempts unanswered calls the refund fails (an admin
	// retries it). A request the provider accepted is asked about again
	// after RefundCheckAfter if its callback has not come.
	RefundRetryBase   time.Duration
	RefundRetryMax    time.Duration
	RefundMaxAttempts int
	RefundCheckAfter  time.Duration
	// InvitationTTL is how long an invitation to join an enterprise can
	// be redeemed.
	InvitationTTL time.Duration

	// ChannelRetry: when a WeChat or SMS delivery is tried again, and when
	// it is given up. WebhookRetry: the same for webhook deliveries, whose
	// giving up also disables the endpoint.
	ChannelRetry RetryPolicy
	WebhookRetry RetryPolicy
}

// SubsidyProgram is a regional program that pays part of the fee.
type SubsidyProgram struct {
	Code       string // stable program code, shown as Fee.Program
	RegionCode string // the region it is keyed by
	Percent    int64  // share of the list price covered, 0..100
	Name       Text
}

// DefaultRules holds the business defaults (fees, subsidies, deposit
// limits, deadlines, reminders, retention). Treat it as read-only: override
// fields on DefaultRules.Clone().
var DefaultRules = Rules{
	Currency: "CNY",
	FeeFen: map[CaseKind]int64{
		KindInitial:       30000,
		KindAnnualReview:  30000,
		KindReinstatement: 30000,
		KindAppeal:        0,
	},
	Subsidies: map[string]SubsidyProgram{
		"440300": {
			Code:       "shenzhen_sme_digital",
			RegionCode: "440300",
			Percent:    50,
			Name:       Text{Zh: "深圳市中小企业数字化转型专项", En: "Shenzhen SME digital-transformation program"},
		},
	},
	DepositMinFen:               1,
	DepositMaxFen:               99,
	DepositTTL:                  72 * time.Hour,
	DepositAttempts:             3,
	DepositsPerWindow:           3,
	DepositWindow:               30 * 24 * time.Hour,
	DepositLockCooldown:         24 * time.Hour,
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

// Clone returns a deep copy, so that overriding a map entry or the reminder
// list of the copy leaves r (typically DefaultRules) untouched.
func (r Rules) Clone() Rules {
	c := r
	if r.FeeFen != nil {
		c.FeeFen = make(map[CaseKind]int64, len(r.FeeFen))
		for k, v := range r.FeeFen {
			c.FeeFen[k] = v
		}
	}
	if r.Subsidies != nil {
		c.Subsidies = make(map[string]SubsidyProgram, len(r.Subsidies))
		for k, v := range r.Subsidies {
			c.Subsidies[k] = v
		}
	}
	if r.ReminderDays != nil {
		c.ReminderDays = append([]int(nil), r.ReminderDays...)
	}
	return c
}

// Validate reports a configuration mistake in r (for startup checks).
func (r Rules) Validate() error {
	bad := func(format string, a ...any) error {
		return Wrap(KindInternal, "invalid_rules", fmt.Errorf(format, a...))
	}
	switch {
	case r.Currency == "":
		return bad("currency is empty")
	case r.DepositMinFen < 1 || r.DepositMaxFen < r.DepositMinFen || r.DepositMaxFen > 99:
		return bad("deposit range %d..%d fen is not within 1..99", r.DepositMinFen, r.DepositMaxFen)
	case r.DepositTTL <= 0 || r.VerificationSessionTTL <= 0 || r.ClaimTTL <= 0:
		return bad("deposit, session and claim TTLs must be positive")
	case r.DepositAttempts < 1:
		return bad("deposit attempts %d < 1", r.DepositAttempts)
	case r.DepositsPerWindow < 1 || r.DepositWindow <= 0 || r.DepositLockCooldown < 0:
		return bad("deposit rate limit %d per %s (cool-down %s) is not positive", r.DepositsPerWindow, r.DepositWindow, r.DepositLockCooldown)
	case r.ReviewSLAWorkingDays < 1:
		return bad("review SLA %d working days < 1", r.ReviewSLAWorkingDays)
	case r.MaxChangeRequests < 0 || r.LapseAfterDays < 0 || r.RetentionDays < 0:
		return bad("negative change-request limit, lapse or retention")
	case r.AnnualReviewOpensMonths < 1 || r.AnnualReviewOpensMonths > 11:
		return bad("annual review window %d months not within 1..11", r.AnnualReviewOpensMonths)
	case r.ExplanationMaxChars < 1:
		return bad("explanation limit %d < 1", r.ExplanationMaxChars)
	case r.UncertifiedExternalContacts < 1:
		return bad("uncertified external-contact cap %d < 1", r.UncertifiedExternalContacts)
	case r.RefundRetryBase <= 0 || r.RefundRetryMax < r.RefundRetryBase || r.RefundMaxAttempts < 1 || r.RefundCheckAfter <= 0:
		return bad("refund retries: base %s, max %s, attempts %d, check after %s", r.RefundRetryBase, r.RefundRetryMax, r.RefundMaxAttempts, r.RefundCheckAfter)
	case r.InvitationTTL <= 0:
		return bad("invitation TTL %s is not positive", r.InvitationTTL)
	case !r.ChannelRetry.valid() || !r.WebhookRetry.valid():
		return bad("retry policies %+v, %+v: want 0 < first <= max and a positive bound", r.ChannelRetry, r.WebhookRetry)
	}
	for k, v := range r.FeeFen {
		if v < 0 {
			return bad("negative fee %d for %s", v, k)
		}
	}
	for code, p := range r.Subsidies {
		if p.Percent < 0 || p.Percent > 100 || p.Code == "" {
			return bad("subsidy program for region %s: code %q, percent %d", code, p.Code, p.Percent)
		}
	}
	for _, d := range r.ReminderDays {
		if d < 1 {
			return bad("reminder milestone %d < 1", d)
		}
	}
	return nil
}

// reminderDays returns the milestones most distant first, without
// duplicates.
func (r Rules) reminderDays() []int {
	ds := append([]int(nil), r.ReminderDays...)
	sort.Sort(sort.Reverse(sort.IntSlice(ds)))
	out := ds[:0]
	for i, d := range ds {
		if i == 0 || d != ds[i-1] {
			out = append(out, d)
		}
	}
	return out
}
