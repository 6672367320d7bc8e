package certsvc_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"microcert/shared/certsvc"
	"microcert/shared/domain"
	"microcert/shared/httpapi/apitest"
	"microcert/shared/jobs"
)

// fakeProvider is an idempotent refund API: a key is paid at most once;
// the first `down` calls get no answer.
type fakeProvider struct {
	mu    sync.Mutex
	down  int
	calls int
	paid  map[string]int64 // key -> amount paid back
}

func (p *fakeProvider) Refund(ctx context.Context, req certsvc.RefundRequest) (domain.ProviderAnswer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.down > 0 {
		p.down--
		return domain.ProviderAnswer{}, errors.New("503 from the provider")
	}
	if p.paid == nil {
		p.paid = map[string]int64{}
	}
	if _, ok := p.paid[req.Key]; !ok {
		p.paid[req.Key] = req.AmountFen
	}
	return domain.ProviderAnswer{Status: domain.RefundSucceeded, ProviderRefundID: "p-" + req.Key, AmountFen: req.AmountFen}, nil
}

func (p *fakeProvider) paidOut() (keys int, fen int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, v := range p.paid {
		keys++
		fen += v
	}
	return keys, fen
}

type moneyEnv struct {
	*rvEnv
	provider *fakeProvider
}

func newMoneyEnv(t *testing.T) *moneyEnv {
	t.Helper()
	p := &fakeProvider{}
	e := apitest.New(t, apitest.At(rvBeijing(2026, 9, 24, 10, 0)), apitest.WithRefunds(p))
	return &moneyEnv{rvEnv: &rvEnv{t: t, st: e.Store, svc: e.Service, clock: e.Clock, rules: e.Rules}, provider: p}
}

// draftWithOrder opens a Shenzhen case and its fee order (15000 fen).
func (e *moneyEnv) draftWithOrder() (caseID, orderID string) {
	e.t.Helper()
	ent := e.enterprise()
	v, err := e.svc.OpenCase(rvCtx, rvApplicant, certsvc.CaseInput{EnterpriseID: ent.ID, Kind: domain.KindInitial,
		Types: []domain.CertType{domain.CertOfficialAccount}})
	if err != nil {
		e.t.Fatal(err)
	}
	order, _, err := e.svc.CreatePayment(rvCtx, rvApplicant, v.Case.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return v.Case.ID, order.OrderID
}

func (e *moneyEnv) check(caseID string, wantRefunds int) []domain.Refund {
	e.t.Helper()
	b, err := e.st.GetCaseBundle(rvCtx, caseID)
	if err != nil {
		e.t.Fatal(err)
	}
	ledger, err := e.st.CaseLedger(rvCtx, caseID)
	if err != nil {
		e.t.Fatal(err)
	}
	var owed, refunded, received int64
	for _, r := range b.Refunds {
		owed += r.AmountFen
	}
	for _, l := range ledger {
		switch l.Kind {
		case domain.LedgerPayment:
			received += l.AmountFen
		case domain.LedgerRefund:
			refunded += l.AmountFen
		}
	}
	m := b.Case.Money
	if len(b.Refunds) != wantRefunds || m.ReceivedFen != received || m.ReceivedFen != m.KeptFen+owed {
		e.t.Fatalf("refunds %d (want %d), money %+v, ledger received %d, owed %d", len(b.Refunds), wantRefunds, m, received, owed)
	}
	return b.Refunds
}

// Two (or more) triggers of the same refund at once give one refund: the
// refund's id comes from its cause, and the case, the refund and the
// ledger entry are written under conditions.
func TestRefundTriggersAtOnce(t *testing.T) {
	at := func(n int, f func(i int)) {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Go(func() { <-start; f(i) })
		}
		close(start)
		wg.Wait()
	}

	t.Run("the same late payment delivered at once", func(t *testing.T) {
		e := newMoneyEnv(t)
		caseID, orderID := e.draftWithOrder()
		if _, err := e.svc.Withdraw(rvCtx, rvApplicant, caseID); err != nil {
			t.Fatal(err)
		}
		errs := make([]error, 6)
		at(len(errs), func(i int) {
			_, errs[i] = e.svc.RecordPayment(rvCtx, certsvc.PaymentResult{OrderID: orderID, Status: "paid", PaidFen: 15000, TransactionID: "t1"})
		})
		for _, err := range errs {
			if err != nil {
				t.Fatalf("callbacks: %v", errs)
			}
		}
		rs := e.check(caseID, 1)
		if rs[0].Reason != domain.RefundCaseClosed || rs[0].Status != domain.RefundSucceeded {
			t.Fatalf("refund %+v", rs[0])
		}
		if keys, fen := e.provider.paidOut(); keys != 1 || fen != 15000 {
			t.Fatalf("the provider paid %d keys, %d fen", keys, fen)
		}
	})

	t.Run("withdrawals at once", func(t *testing.T) {
		e := newMoneyEnv(t)
		caseID, orderID := e.draftWithOrder()
		if _, err := e.svc.RecordPayment(rvCtx, certsvc.PaymentResult{OrderID: orderID, Status: "paid", PaidFen: 15000, TransactionID: "t1"}); err != nil {
			t.Fatal(err)
		}
		at(6, func(int) { _, _ = e.svc.Withdraw(rvCtx, rvApplicant, caseID) })
		rs := e.check(caseID, 1)
		if rs[0].Reason != domain.RefundWithdrawn || rs[0].Status != domain.RefundSucceeded {
			t.Fatalf("refund %+v", rs[0])
		}
		if keys, fen := e.provider.paidOut(); keys != 1 || fen != 15000 {
			t.Fatalf("the provider paid %d keys, %d fen", keys, fen)
		}
	})

	t.Run("the refund job and an admin's retry at once", func(t *testing.T) {
		e := newMoneyEnv(t)
		caseID, orderID := e.draftWithOrder()
		if _, err := e.svc.RecordPayment(rvCtx, certsvc.PaymentResult{OrderID: orderID, Status: "paid", PaidFen: 15000, TransactionID: "t1"}); err != nil {
			t.Fatal(err)
		}
		// The provider never answers: the refund fails as unreachable.
		e.provider.down = 1000
		if _, err := e.svc.Withdraw(rvCtx, rvApplicant, caseID); err != nil {
			t.Fatal(err)
		}
		job := jobs.NewRefunds(jobs.Config{Rules: e.rules, Wall: e.clock}, e.st, e.svc)
		for i := 1; i < e.rules.RefundMaxAttempts; i++ {
			e.clock.Advance(e.rules.RefundRetryMax)
			job.Run(rvCtx, e.clock.Now())
		}
		rs := e.check(caseID, 1)
		if rs[0].Status != domain.RefundFailed || rs[0].FailureCode != domain.RefundUnreachable || rs[0].Attempts != e.rules.RefundMaxAttempts {
			t.Fatalf("refund %+v", rs[0])
		}
		// Back up; the admin retries while the job runs (the refund is
		// due again as soon as the retry commits).
		e.provider.mu.Lock()
		e.provider.down = 0
		e.provider.mu.Unlock()
		at(4, func(i int) {
			if i%2 == 0 {
				_, _ = e.svc.RetryRefund(rvCtx, rvAdmin, rs[0].ID)
			} else {
				job.Run(rvCtx, e.clock.Now())
			}
		})
		rs = e.check(caseID, 1)
		if rs[0].Status != domain.RefundSucceeded || rs[0].Round != 1 {
			t.Fatalf("refund %+v", rs[0])
		}
		if keys, fen := e.provider.paidOut(); keys != 1 || fen != 15000 {
			t.Fatalf("the provider paid %d keys, %d fen", keys, fen)
		}
		ledger, _ := e.st.CaseLedger(rvCtx, caseID)
		n := 0
		for _, l := range ledger {
			if l.Kind == domain.LedgerRefund {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d refund entries on the ledger", n)
		}
	})
}

func TestRefundBacksOffThenSucceeds(t *testing.T) {
	e := newMoneyEnv(t)
	caseID, orderID := e.draftWithOrder()
	e.provider.down = 2
	if _, err := e.svc.RecordPayment(rvCtx, certsvc.PaymentResult{OrderID: orderID, Status: "paid", PaidFen: 15100, TransactionID: "t1"}); err != nil {
		t.Fatal(err)
	}
	rs := e.check(caseID, 1)
	if rs[0].Reason != domain.RefundOverpaid || rs[0].AmountFen != 100 || rs[0].Attempts != 1 {
		t.Fatalf("after the first call: %+v", rs[0])
	}
	job := jobs.NewRefunds(jobs.Config{Rules: e.rules, Wall: e.clock}, e.st, e.svc)
	// Not due yet: nothing is sent.
	if s := job.Run(rvCtx, e.clock.Now()); s.Read != 0 {
		t.Fatalf("run before the pause: %+v", s)
	}
	e.clock.Advance(time.Minute)
	if s := job.Run(rvCtx, e.clock.Now()); s.Count(jobs.OutRefundBackoff) != 1 {
		t.Fatalf("second call: %+v", s)
	}
	e.clock.Advance(2 * time.Minute)
	if s := job.Run(rvCtx, e.clock.Now()); s.Count(jobs.OutRefundSucceeded) != 1 {
		t.Fatalf("third call: %+v", s)
	}
	if s := job.Run(rvCtx, e.clock.Now().Add(time.Hour)); s.Read != 0 {
		t.Fatalf("a settled refund is not due: %+v", s)
	}
	if keys, fen := e.provider.paidOut(); keys != 1 || fen != 100 {
		t.Fatalf("the provider paid %d keys, %d fen", keys, fen)
	}
}
