package domain

import (
	"sort"
	"strings"
	"time"
)

// Violation is a revocation on an enterprise's record, read from its
// certifications' history (the one record of what happened to them).
type Violation struct {
	Type      CertType
	Reason    string
	Severity  string // SeverityMinor or SeverityMajor
	RevokedAt time.Time
	// Overturned: a later appeal restored the certification.
	Overturned bool
}

// AppealContext is what a reviewer weighs on an appeal: the revocations
// under appeal and the enterprise's other violations.
type AppealContext struct {
	// Revocations are the revocations the appeal was opened against: for
	// each type of the case, the last revocation of that type before the
	// case was opened.
	Revocations []Violation
	// EarlierViolations are the enterprise's other revocations before the
	// case was opened, of any type, newest first.
	EarlierViolations []Violation
}

// AppealContextFor derives the context of an appeal case from the
// enterprise's certification history (any order); nil for other kinds.
// Revoke records the severity as the entry's reason and the admin's reason
// as its note.
func AppealContextFor(c *Case, enterpriseHistory []HistoryEntry) *AppealContext {
	if c == nil || c.Kind != KindAppeal {
		return nil
	}
	hist := append([]HistoryEntry(nil), enterpriseHistory...)
	sort.SliceStable(hist, func(i, j int) bool { return hist[i].At.Before(hist[j].At) })

	var all []Violation
	for i, h := range hist {
		t, ok := certSubjectType(h.Subject)
		if !ok || h.To != string(CertRevoked) || h.At.After(c.CreatedAt) {
			continue
		}
		v := Violation{Type: t, Reason: h.Note, RevokedAt: h.At}
		if len(h.Reasons) > 0 {
			v.Severity = h.Reasons[0]
		}
		// The next move of the same certification tells whether an appeal
		// put it back.
		for _, later := range hist[i+1:] {
			if later.Subject == h.Subject {
				v.Overturned = later.From == string(CertRevoked) && later.To == string(CertActive)
				break
			}
		}
		all = append(all, v)
	}

	out := &AppealContext{Revocations: []Violation{}, EarlierViolations: []Violation{}}
	underAppeal := map[int]bool{}
	for _, t := range c.Types {
		for i := len(all) - 1; i >= 0; i-- {
			if all[i].Type == t {
				underAppeal[i] = true
				out.Revocations = append(out.Revocations, all[i])
				break
			}
		}
	}
	for i := len(all) - 1; i >= 0; i-- {
		if !underAppeal[i] {
			out.EarlierViolations = append(out.EarlierViolations, all[i])
		}
	}
	return out
}

// certSubjectType reads the type out of a certification history subject
// ("certification:<type>").
func certSubjectType(subject string) (CertType, bool) {
	t, ok := strings.CutPrefix(subject, certSubjectPrefix)
	return CertType(t), ok && CertType(t).Valid()
}
