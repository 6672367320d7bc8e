package apicalls

import (
	"context"

	"microcert/shared/httpapi/apitest"
	"sort"
	"testing"
	"time"
)

// The handler's own cost, in one process: GET /v1/cases/{caseId} through
// httpapi.Handle versus the same two reads (GetCaseBundle, GetEnterprise)
// made straight on the store, both against the same DynamoDB stand-in.
// Their difference is what the adapter, the service and the view add to
// the store round trip (budget: 0.5 ms at p50). Profile with
//
//	go -C infra/bench test -run '^$' -bench 'GetCase' -cpuprofile cpu.out ./apicalls
func setupCase(b *testing.B) (*harness, map[string]string, string) {
	b.Helper()
	h := newHarness(b)
	ent := h.must(codes(201), "POST /v1/enterprises", nil, applicant, apitest.EnterpriseBody(h.Next()), false)
	cs := h.must(codes(201), "POST /v1/cases", nil, applicant,
		map[string]any{"enterpriseId": str(ent, "id"), "kind": "initial", "types": []string{"wecom", "official_account"}}, false)
	caseID := str(cs, "id")
	for _, dt := range []string{"business_license", "legal_rep_id_front"} {
		h.upload(caseID, dt, false)
	}
	return h, map[string]string{"caseId": caseID}, caseID
}

func BenchmarkGetCaseHandler(b *testing.B) {
	h, cp, _ := setupCase(b)
	ev := h.Event(h.request("GET /v1/cases/{caseId}", cp, applicant, nil, false))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := h.API.Handle(ctx, ev)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("status %d: %v", resp.StatusCode, err)
		}
	}
}

func BenchmarkGetCaseRawStore(b *testing.B) {
	h, _, caseID := setupCase(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		bd, err := h.Store.GetCaseBundle(ctx, caseID)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := h.Store.GetEnterprise(ctx, bd.Case.EnterpriseID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetCaseOverhead alternates the two in each iteration (so both
// see the same noise) and reports the medians and the median difference.
func BenchmarkGetCaseOverhead(b *testing.B) {
	h, cp, caseID := setupCase(b)
	ev := h.Event(h.request("GET /v1/cases/{caseId}", cp, applicant, nil, false))
	ctx := context.Background()
	var hs, rs, ds []float64
	for b.Loop() {
		start := time.Now()
		resp, err := h.API.Handle(ctx, ev)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("status %d: %v", resp.StatusCode, err)
		}
		hd := time.Since(start)
		start = time.Now()
		bd, err := h.Store.GetCaseBundle(ctx, caseID)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := h.Store.GetEnterprise(ctx, bd.Case.EnterpriseID); err != nil {
			b.Fatal(err)
		}
		rd := time.Since(start)
		hs, rs, ds = append(hs, us(hd)), append(rs, us(rd)), append(ds, us(hd)-us(rd))
	}
	b.ReportMetric(median(hs), "handler-us")
	b.ReportMetric(median(rs), "raw-store-us")
	b.ReportMetric(median(ds), "overhead-us")
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
