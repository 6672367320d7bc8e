package certsvc_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"microcert/shared/certsvc"
	"microcert/shared/domain"
	"microcert/shared/httpapi/apitest"
	"microcert/shared/jobs"
	"microcert/shared/refundevent"
)

// recordingHandoff stands for the async invoke of RefundFunction: it
// records the refunds handed over and whether each was already written
// when it was.
type recordingHandoff struct {
	mu      sync.Mutex
	store   certsvc.Store
	fail    bool
	got     []domain.Refund
	written []bool
}

func (h *recordingHandoff) HandOff(ctx context.Context, r domain.Refund) error {
	_, err := h.store.GetRefund(ctx, r.CaseID, r.ID)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, r)
	h.written = append(h.written, err == nil)
	if h.fail {
		return errors.New("invoke: HTTP 503")
	}
	return nil
}

// A keyed withdrawal of a paid case creates its refund pending in its one
// transaction and hands it to RefundFunction after that is written,
// without calling the provider; RefundFunction's handler sends it on that
// event (once, however often it comes), refuses malformed events and still
// runs its schedule. A failed hand-off fails nothing: the schedule sends
// the refund.
func TestRefundHandedToRefundFunction(t *testing.T) {
	for _, fail := range []bool{false, true} {
		p := &fakeProvider{}
		h := &recordingHandoff{fail: fail}
		env := apitest.New(t, apitest.At(rvBeijing(2026, 9, 24, 10, 0)), apitest.WithRefunds(p), apitest.WithHandoff(h))
		h.store = env.Store
		e := &moneyEnv{rvEnv: &rvEnv{t: t, st: env.Store, svc: env.Service, clock: env.Clock, rules: env.Rules}, provider: p}
		caseID, orderID := e.draftWithOrder()
		if _, err := e.svc.RecordPayment(rvCtx, certsvc.PaymentResult{OrderID: orderID, Status: "paid", PaidFen: 15000, TransactionID: "t1"}); err != nil {
			t.Fatal(err)
		}
		resp := env.Do(apitest.Request{Route: "POST /v1/cases/{caseId}/withdraw", Params: apitest.P("caseId", caseID),
			As: apitest.Applicant(rvApplicant.UserID), Headers: map[string]string{"Idempotency-Key": "withdraw-1"}})
		if resp.Status != 200 {
			t.Fatalf("fail %v: withdraw %d %s", fail, resp.Status, resp.Body)
		}
		rs := e.check(caseID, 1)
		if rs[0].Status != domain.RefundPending || p.calls != 0 {
			t.Fatalf("fail %v: refund %+v, provider called %d times in the request", fail, rs[0], p.calls)
		}
		if len(h.got) != 1 || h.got[0].ID != rs[0].ID || h.got[0].CaseID != caseID || !h.written[0] {
			t.Fatalf("fail %v: handed over %+v (written %v), want refund %s once, after its write", fail, h.got, h.written, rs[0].ID)
		}
		job := jobs.NewRefunds(jobs.Config{Rules: e.rules, Wall: e.clock, Log: slog.New(slog.DiscardHandler)}, e.st, e.svc)
		handler := &jobs.RefundHandler{Job: job, Schedule: &jobs.Handler{Job: job, Clock: e.clock}}
		if fail {
			// The schedule is the backstop: the refund is due now.
			if s, err := handler.Handle(rvCtx, json.RawMessage(`{"detail-type":"Scheduled Event","source":"aws.events"}`)); err != nil ||
				s.Count(jobs.OutRefundSucceeded) != 1 {
				t.Fatalf("scheduled run: %+v %v", s, err)
			}
			e.check(caseID, 1)
			continue
		}
		for _, bad := range []string{
			`{"refundId":"` + rs[0].ID + `"}`,
			`{"caseId":"` + caseID + `","refundId":"nope","round":1}`,
			`{"caseId":"` + caseID + `","refundId":"` + rs[0].ID + `","round":0}`,
			`{"caseId":"` + caseID + `","refundId":"` + rs[0].ID + `","round":1,"extra":true}`,
		} {
			if _, err := handler.Handle(rvCtx, json.RawMessage(bad)); err == nil {
				t.Errorf("event %s accepted", bad)
			}
		}
		if p.calls != 0 {
			t.Fatalf("malformed events called the provider %d times", p.calls)
		}
		ev, _ := json.Marshal(refundevent.Event{CaseID: caseID, RefundID: rs[0].ID, Round: rs[0].Round})
		want := []string{jobs.OutRefundSucceeded, jobs.OutNotDue}
		for i, w := range want {
			s, err := handler.Handle(rvCtx, ev)
			if err != nil || s.Count(w) != 1 {
				t.Fatalf("event %d: %+v %v, want %s", i, s, err, w)
			}
		}
		if rs := e.check(caseID, 1); rs[0].Status != domain.RefundSucceeded {
			t.Fatalf("refund %+v", rs[0])
		}
		if keys, fen := p.paidOut(); keys != 1 || fen != 15000 || p.calls != 1 {
			t.Fatalf("the provider paid %d keys, %d fen in %d calls", keys, fen, p.calls)
		}
	}
}
