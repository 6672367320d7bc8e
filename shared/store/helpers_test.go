package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"microcert/shared/domain"
	"microcert/shared/store/storetest"
)

// t0 is the tests' "now" (2026-11-26 10:00 Beijing time).
var t0 = time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)

var ctx = context.Background()

// newStore starts a fresh table and returns a store over it and a counter
// of its calls.
func newStore(t *testing.T) (*Store, *storetest.Counter) {
	t.Helper()
	s, c := newScanningStore(t)
	t.Cleanup(func() {
		if n := c.Calls("Scan"); n > 0 {
			t.Errorf("the store made %d Scan calls", n)
		}
	})
	return s, c
}

// newScanningStore is newStore for the migration tools' tests: they may
// Scan.
func newScanningStore(t *testing.T) (*Store, *storetest.Counter) {
	t.Helper()
	c := storetest.NewCounter()
	client, table := storetest.NewTable(t, c.Option())
	return New(client, table, domain.DefaultRules), c
}

func ptr[T any](v T) *T { return &v }

var seed atomic.Int64

// nextSeed is safe for the tests' goroutines (racing writers).
func nextSeed() int { return int(seed.Add(1)) }

func sampleEnterprise(owner string) *domain.Enterprise {
	n := nextSeed()
	return &domain.Enterprise{
		ID:                  domain.NewIDAt(t0),
		Name:                fmt.Sprintf("深圳示例科技有限公司 %d", n),
		USCC:                domain.SampleUSCC(n),
		LegalRep:            domain.LegalRep{Name: "张三", IDNumber: domain.SampleIDNumber(n), Phone: "13800138000"},
		RegisteredAddress:   "深圳市南山区科技园1号",
		OperatingAddress:    "深圳市南山区科技园1号",
		HasCorporateAccount: true,
		OwnerID:             owner,
		Status:              domain.EnterpriseActive,
		Version:             1,
		CreatedAt:           t0,
		UpdatedAt:           t0,
	}
}

func sampleCase(e *domain.Enterprise, at time.Time) *domain.Case {
	return &domain.Case{
		ID:           domain.NewIDAt(at),
		EnterpriseID: e.ID,
		OpenedBy:     e.OwnerID,
		Kind:         domain.KindInitial,
		Types:        []domain.CertType{domain.CertWeCom, domain.CertOfficialAccount},
		Status:       domain.CaseDraft,
		Version:      1,
		CreatedAt:    at,
		UpdatedAt:    at,
		Fee:          domain.Fee{AmountFen: 30000, SubsidyFen: 15000, PayableFen: 15000, Program: "shenzhen_sme_digital", Currency: "CNY"},
	}
}

func sampleDocument(c *domain.Case, at time.Time) *domain.Document {
	return &domain.Document{
		ID:            domain.NewIDAt(at),
		CaseID:        c.ID,
		EnterpriseID:  c.EnterpriseID,
		DocType:       domain.DocBusinessLicense,
		ContentType:   "image/jpeg",
		ContentLength: 123456,
		Status:        domain.DocPending,
		CreatedAt:     at,
	}
}

func sampleCert(entID string, typ domain.CertType, status domain.CertStatus, expires time.Time) *domain.Certification {
	return &domain.Certification{
		EnterpriseID: entID,
		Type:         typ,
		Status:       status,
		IssuedAt:     expires.AddDate(-1, 0, 0),
		ExpiresAt:    expires,
		CaseID:       domain.NewIDAt(t0),
		Version:      1,
		Cycle:        1,
		UpdatedAt:    t0,
	}
}

// mustCommit commits ch or fails the test.
func mustCommit(t *testing.T, s *Store, ch *domain.Change) {
	t.Helper()
	if err := s.Commit(ctx, ch); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func createEnterprise(t *testing.T, s *Store, owner string) *domain.Enterprise {
	t.Helper()
	e := sampleEnterprise(owner)
	mustCommit(t, s, &domain.Change{Enterprises: []domain.EnterpriseWrite{{Enterprise: e, Create: true}},
		Members: []domain.MemberWrite{{Create: true, Member: &domain.Member{EnterpriseID: e.ID, UserID: owner,
			Role: domain.MemberOwner, JoinedAt: e.CreatedAt, UpdatedAt: e.CreatedAt, Version: 1}}}})
	return e
}

func createCase(t *testing.T, s *Store, e *domain.Enterprise, at time.Time) *domain.Case {
	t.Helper()
	c := sampleCase(e, at)
	mustCommit(t, s, &domain.Change{Cases: []domain.CaseWrite{{Case: c, Create: true}}})
	return c
}

// next returns a copy of c with the version bumped, after f changed it.
func nextCase(c *domain.Case, f func(*domain.Case)) *domain.Case {
	n := *c
	n.Version++
	if f != nil {
		f(&n)
	}
	return &n
}

// wantCode fails unless err is a domain error with kind and code.
func wantCode(t *testing.T, err error, kind domain.Kind, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s %s", kind, code)
	}
	if domain.KindOf(err) != kind || domain.CodeOf(err) != code {
		t.Fatalf("err = %v (kind %s, code %q), want %s %q", err, domain.KindOf(err), domain.CodeOf(err), kind, code)
	}
}

// diff compares domain values; times compare by instant.
func diff(want, got any) string {
	return cmp.Diff(want, got, cmpopts.EquateEmpty())
}

func toLEK(m map[string]string) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{}
	for k, v := range m {
		out[k] = &types.AttributeValueMemberS{Value: v}
	}
	return out
}

// historyCount is the number of history entries of the case.
func historyCount(t *testing.T, s *Store, caseID string) int {
	t.Helper()
	b, err := s.GetCaseBundle(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	return len(b.History)
}
