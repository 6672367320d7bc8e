package domain

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAppealContextFor(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	admin := Actor{UserID: "u-admin", Roles: []Role{RoleAdmin}}
	revoke := func(ty CertType, at int, severity, reason string) HistoryEntry {
		return NewHistoryEntry(certSubject(ty), string(CertActive), string(CertRevoked), admin, day(at), []string{severity}, reason)
	}
	restore := func(ty CertType, at int) HistoryEntry {
		return NewHistoryEntry(certSubject(ty), string(CertRevoked), string(CertActive), SystemActor, day(at), []string{string(KindAppeal)}, "case")
	}
	issue := func(ty CertType, at int) HistoryEntry {
		return NewHistoryEntry(certSubject(ty), "", string(CertActive), SystemActor, day(at), []string{string(KindInitial)}, "case")
	}
	appeal := func(opened int, types ...CertType) *Case {
		return &Case{Kind: KindAppeal, Types: types, CreatedAt: day(opened)}
	}
	v := func(ty CertType, at int, severity, reason string, overturned bool) Violation {
		return Violation{Type: ty, Reason: reason, Severity: severity, RevokedAt: day(at), Overturned: overturned}
	}

	tests := []struct {
		name string
		c    *Case
		hist []HistoryEntry
		want *AppealContext
	}{
		{"not an appeal", &Case{Kind: KindInitial, CreatedAt: day(10)}, []HistoryEntry{revoke(CertWeCom, 1, SeverityMajor, "fraud")}, nil},
		{"first violation", appeal(10, CertWeCom),
			[]HistoryEntry{issue(CertWeCom, 0), revoke(CertWeCom, 5, SeverityMajor, "虚假材料")},
			&AppealContext{Revocations: []Violation{v(CertWeCom, 5, SeverityMajor, "虚假材料", false)}, EarlierViolations: []Violation{}}},
		{"an earlier revocation of the same type, overturned on appeal; another type's, newest first", appeal(40, CertWeCom),
			[]HistoryEntry{
				revoke(CertWeCom, 30, SeverityMinor, "second"), // out of order on purpose
				issue(CertWeCom, 0), issue(CertOfficialAccount, 0),
				revoke(CertWeCom, 5, SeverityMajor, "first"), restore(CertWeCom, 8),
				revoke(CertOfficialAccount, 20, SeverityMinor, "oa"),
			},
			&AppealContext{
				Revocations:       []Violation{v(CertWeCom, 30, SeverityMinor, "second", false)},
				EarlierViolations: []Violation{v(CertOfficialAccount, 20, SeverityMinor, "oa", false), v(CertWeCom, 5, SeverityMajor, "first", true)},
			}},
		{"one appeal for two revoked types", appeal(40, CertWeCom, CertMiniProgram),
			[]HistoryEntry{revoke(CertWeCom, 30, SeverityMajor, "a"), revoke(CertMiniProgram, 31, SeverityMajor, "b")},
			&AppealContext{Revocations: []Violation{v(CertWeCom, 30, SeverityMajor, "a", false), v(CertMiniProgram, 31, SeverityMajor, "b", false)},
				EarlierViolations: []Violation{}}},
		{"revocations after the appeal was opened are not earlier", appeal(10, CertWeCom),
			[]HistoryEntry{revoke(CertWeCom, 5, SeverityMajor, "a"), revoke(CertOfficialAccount, 12, SeverityMinor, "later")},
			&AppealContext{Revocations: []Violation{v(CertWeCom, 5, SeverityMajor, "a", false)}, EarlierViolations: []Violation{}}},
		{"no history (records from before it was kept)", appeal(10, CertWeCom), nil,
			&AppealContext{Revocations: []Violation{}, EarlierViolations: []Violation{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, AppealContextFor(tt.c, tt.hist)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
