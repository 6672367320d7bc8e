package reconcile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"microcert/shared/blob"
	"microcert/shared/domain"
	"microcert/shared/jobs"
	"microcert/shared/reconcile"
	"microcert/shared/statements"
	"microcert/shared/store"
	"microcert/shared/store/storetest"
)

// files is a bucket of statements.
type files map[string][]byte

func (f files) Open(_ context.Context, key string) (io.ReadCloser, blob.ObjectInfo, error) {
	b, ok := f[key]
	if !ok {
		return nil, blob.ObjectInfo{}, blob.ErrObjectGone
	}
	return io.NopCloser(bytes.NewReader(b)), blob.ObjectInfo{Size: int64(len(b))}, nil
}

var ctx = context.Background()

func TestReconcileBankAndMissingStatements(t *testing.T) {
	client, table := storetest.NewTable(t)
	st := store.New(client, table, domain.DefaultRules)
	day := "2026-09-24"
	start, _ := domain.DayStart(day)
	paidAt := start.Add(10 * time.Hour)
	runAt := start.Add(24*time.Hour + 150*time.Minute) // 10:30 Beijing the next day
	p1 := domain.Payout{ID: domain.NewIDAt(paidAt), CaseID: domain.NewIDAt(paidAt), AmountFen: 37, AccountLast4: "1234", At: paidAt}
	p2 := domain.Payout{ID: domain.NewIDAt(paidAt), CaseID: domain.NewIDAt(paidAt), AmountFen: 5, AccountLast4: "9876", At: paidAt.Add(time.Second)}
	if err := st.Commit(ctx, &domain.Change{Payouts: []domain.Payout{p1, p2}}); err != nil {
		t.Fatal(err)
	}
	fs := files{}
	job := reconcile.New(reconcile.Config{}, st, fs)

	// Nothing delivered yet: the run fails, so that it is retried.
	s := job.Run(ctx, runAt)
	if s.Complete || s.Count(jobs.OutStatementMissing) != 2 || s.Err() == nil || s.Day != day {
		t.Fatalf("without statements: %+v", s)
	}

	// The bank paid 38 instead of 37, and nothing of the second transfer.
	fs[statements.Key(domain.SourceBank, day)] = statements.WritePayouts([]statements.Payout{
		{At: paidAt, Reference: p1.ID, BankRef: "B1", Last4: "1234", AmountFen: 38, Status: "SUCCESS"}})
	fs[statements.Key(domain.SourcePayments, day)] = statements.WriteTrades("a", "m", nil)
	s = job.Run(ctx, runAt)
	if !s.Complete || s.Discrepancies["bank"]["amount_mismatch"] != 1 || s.Discrepancies["bank"]["missing_on_theirs"] != 1 ||
		s.Discrepancies["payments"]["missing_on_ours"] != 0 {
		t.Fatalf("bank day: %+v", s)
	}
	if s.Totals["bank_ours_net_fen"] != -42 || s.Totals["bank_theirs_net_fen"] != -38 {
		t.Fatalf("totals %v", s.Totals)
	}
	list, _, err := st.ListDiscrepancies(ctx, domain.DiscrepancyFilter{Source: domain.SourceBank, Status: domain.DiscrepancyOpen}, domain.Page{Limit: 10})
	if err != nil || len(list) != 2 {
		t.Fatalf("recorded %v, %v", list, err)
	}

	// A malformed statement is said so, not taken for a clean day.
	fs[statements.Key(domain.SourceBank, day)] = []byte("not a statement")
	if s = job.Run(ctx, runAt); s.Complete || s.Count(jobs.OutStatementBad) != 1 {
		t.Fatalf("malformed: %+v", s)
	}

	// The metric: one line per source and kind, with both dimension sets.
	var out bytes.Buffer
	sum := jobs.Summary{Job: "reconcile", Day: day, Complete: true, Discrepancies: map[string]map[string]int{
		"bank": {"amount_mismatch": 1, "missing_on_ours": 0}}}
	if err := jobs.WriteEMF(&out, "ReconcileFunction", sum); err != nil {
		t.Fatal(err)
	}
	var found int
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatal(err)
		}
		if _, ok := doc[jobs.DiscrepancyMetric]; !ok {
			continue
		}
		found++
		dims := doc["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Dimensions"]
		if b, _ := json.Marshal(dims); string(b) != `[["FunctionName"],["FunctionName","Source","Type"]]` || doc["Source"] != "bank" {
			t.Errorf("line %s", line)
		}
	}
	if found != 2 {
		t.Fatalf("%d discrepancy lines in\n%s", found, out.String())
	}
}
