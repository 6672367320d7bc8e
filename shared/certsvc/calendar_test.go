package certsvc_test

import (
	"context"
	"testing"
	"time"

	"microcert/shared/certsvc"
	"microcert/shared/domain"
	"microcert/shared/holidays"
	"microcert/shared/httpapi/apitest"
	"microcert/shared/store"
)

// calendarBucket serves the operator's calendar document (or none).
type calendarBucket struct{ doc string }

func (b calendarBucket) Get(ctx context.Context, key string, max int64) ([]byte, error) {
	if b.doc == "" || key != holidays.Key {
		return nil, domain.ErrNotFound
	}
	return []byte(b.doc), nil
}

// readyCase opens a case through the service and completes every
// requirement in the store, as the applicant's app would have.
func readyCase(t *testing.T, svc *certsvc.Service, st *store.Store, now time.Time) string {
	t.Helper()
	n := int(time.Now().UnixNano() % 1e6)
	ent, err := svc.CreateEnterprise(rvCtx, rvApplicant, certsvc.EnterpriseInput{
		Name: "深圳市日历测试有限公司", USCC: domain.SampleUSCC(n),
		LegalRep:          domain.LegalRep{Name: "李四", IDNumber: domain.SampleIDNumber(n), Phone: "13912345678"},
		RegisteredAddress: "广东省深圳市南山区科技园路1号", OperatingAddress: "广东省深圳市南山区科技园路1号", HasCorporateAccount: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := svc.OpenCase(rvCtx, rvApplicant, certsvc.CaseInput{EnterpriseID: ent.ID, Kind: domain.KindInitial,
		Types: []domain.CertType{domain.CertWeCom}})
	if err != nil {
		t.Fatal(err)
	}
	c := *v.Case
	yes := true
	ch := &domain.Change{}
	for _, item := range v.Requirements.CurrentlyDue {
		switch item {
		case domain.ReqFaceVerification:
			c.Face = &domain.Verification{SessionID: domain.NewID(), Kind: domain.VerifyFace, Status: domain.VerificationPassed,
				ExpiresAt: now.Add(time.Hour), PhoneMatches: &yes, CompletedAt: &now, LegalRep: domain.LegalRepFingerprint(ent.LegalRep)}
		case domain.ReqBankVerification:
			c.Deposit = &domain.Deposit{Status: domain.DepositVerified, AccountName: ent.Name, AccountLast4: "1234",
				Deadline: now.Add(time.Hour), AttemptsLeft: 2, CreatedAt: now, VerifiedAt: &now}
		case domain.ReqPayment:
			c.Payment = &domain.Payment{OrderID: domain.NewID(), Status: domain.PaymentPaid, AmountFen: c.Fee.PayableFen,
				PaidFen: c.Fee.PayableFen, CreatedAt: now, PaidAt: &now}
		default:
			ch.Documents = append(ch.Documents, domain.DocumentWrite{Create: true, Document: &domain.Document{
				ID: domain.NewIDAt(now), CaseID: c.ID, EnterpriseID: ent.ID,
				DocType: domain.DocType(item), ContentType: "image/jpeg", ContentLength: 1000, Status: domain.DocPassed, CreatedAt: now}})
		}
	}
	ch.Cases = []domain.CaseWrite{domain.UpdateCase(v.Case, &c)}
	if err := st.Commit(rvCtx, ch); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// TestSubmitPastTheCalendar: a submission never fails for want of holiday
// data. Past the data the deadline is provisional (weekends-only plus
// domain.UnknownDaysMargin working days); with the operator's document for
// the next year it is exact again. The clock is injected.
func TestSubmitPastTheCalendar(t *testing.T) {
	const doc2028 = `{"source":"test notice","years":[{"year":2028,"holidays":["2028-01-01","2028-01-02","2028-01-03"]}]}`
	tests := []struct {
		name        string
		now         time.Time
		doc         string
		wantDue     string // Beijing
		provisional bool
	}{
		{"inside the data", rvBeijing(2026, 9, 24, 10, 0), "", "2026-10-09T23:59:59+08:00", false},
		{"the last deadline the built-in data covers", rvBeijing(2027, 12, 24, 10, 0), "", "2027-12-31T23:59:59+08:00", false},
		{"due past the data", rvBeijing(2027, 12, 28, 10, 0), "", "2028-01-12T23:59:59+08:00", true},
		{"submitted past the data", rvBeijing(2028, 2, 1, 10, 0), "", "2028-02-16T23:59:59+08:00", true},
		{"the operator published 2028", rvBeijing(2027, 12, 28, 10, 0), doc2028, "2028-01-05T23:59:59+08:00", false},
		{"past the operator's data too", rvBeijing(2029, 2, 1, 10, 0), doc2028, "2029-02-16T23:59:59+08:00", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := apitest.New(t, apitest.At(tt.now.Add(-time.Hour)))
			fc, st := e.Clock, e.Store
			svc := certsvc.New(certsvc.Config{Store: st, Blob: e.Bucket, Clock: fc, Rules: e.Rules,
				Calendars: holidays.New(calendarBucket{doc: tt.doc}, fc, nil)})
			id := readyCase(t, svc, st, fc.Now())
			fc.Set(tt.now)

			v, err := svc.Submit(rvCtx, rvApplicant, id)
			if err != nil {
				t.Fatalf("submit: %v", err)
			}
			c := v.Case
			if got := c.ReviewDueAt.In(domain.Beijing()).Format(time.RFC3339); got != tt.wantDue || c.ReviewDueProvisional() != tt.provisional {
				t.Fatalf("due %s provisional %v, want %s %v", got, c.ReviewDueProvisional(), tt.wantDue, tt.provisional)
			}
			stored, err := st.GetCase(rvCtx, id)
			if err != nil {
				t.Fatal(err)
			}
			if stored.ReviewDueProvisional() != tt.provisional {
				t.Fatalf("stored recheck %v", stored.ReviewDueRecheckAt)
			}
		})
	}
}
