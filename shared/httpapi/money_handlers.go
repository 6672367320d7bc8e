package httpapi

import (
	"context"
	"time"

	"microcert/shared/apitime"
	"microcert/shared/domain"
)

// The admins' money routes (router.go: adminsOnly; the service checks the
// role again and audits every call).

type resolveBody struct {
	Note *string `json:"note"`
}

// adminRefundJSON is a refund as admins list it (with the provider's side).
type adminRefundJSON struct {
	refundJSON
	EnterpriseID     string        `json:"enterpriseId"`
	TransactionID    string        `json:"transactionId,omitempty"`
	Round            int           `json:"round"`
	ProviderRefundID string        `json:"providerRefundId,omitempty"`
	SubmittedAt      *apitime.Time `json:"submittedAt"`
	FailureDetail    string        `json:"failureDetail,omitempty"`
	UpdatedAt        apitime.Time  `json:"updatedAt"`
}

func adminRefundView(r *domain.Refund) adminRefundJSON {
	return adminRefundJSON{refundJSON: refundView(r), EnterpriseID: r.EnterpriseID, TransactionID: r.TransactionID,
		Round: r.Round, ProviderRefundID: r.ProviderRefundID, SubmittedAt: apitime.Ptr(r.SubmittedAt), FailureDetail: r.FailureDetail,
		UpdatedAt: apitime.Time(r.UpdatedAt)}
}

type discrepancyJSON struct {
	ID           string        `json:"id"`
	Source       string        `json:"source"`
	Day          string        `json:"day"`
	Kind         string        `json:"kind"`
	LineKind     string        `json:"lineKind"`
	Ref          string        `json:"ref"`
	OrderID      string        `json:"orderId,omitempty"`
	CaseID       string        `json:"caseId,omitempty"`
	OursFen      int64         `json:"oursFen"`
	TheirsFen    int64         `json:"theirsFen"`
	OursStatus   string        `json:"oursStatus,omitempty"`
	TheirsStatus string        `json:"theirsStatus,omitempty"`
	Currency     string        `json:"currency"`
	Status       string        `json:"status"`
	DetectedAt   apitime.Time  `json:"detectedAt"`
	ResolvedAt   *apitime.Time `json:"resolvedAt"`
	ResolvedBy   string        `json:"resolvedBy,omitempty"`
	Note         string        `json:"note,omitempty"`
	Version      int           `json:"version"`
}

func discrepancyView(d *domain.Discrepancy) discrepancyJSON {
	return discrepancyJSON{ID: d.ID, Source: string(d.Source), Day: d.Day, Kind: string(d.Kind), LineKind: d.LineKind, Ref: d.Ref,
		OrderID: d.OrderID, CaseID: d.CaseID, OursFen: d.OursFen, TheirsFen: d.TheirsFen, OursStatus: d.OursStatus,
		TheirsStatus: d.TheirsStatus, Currency: "CNY", Status: string(d.Status), DetectedAt: apitime.Time(d.DetectedAt),
		ResolvedAt: apitime.Ptr(d.ResolvedAt), ResolvedBy: d.ResolvedBy, Note: d.Note, Version: d.Version}
}

// timeQuery reads an RFC 3339 query parameter.
func timeQuery(r *request, name string) (*time.Time, error) {
	v, ok := r.query[name]
	if !ok || v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, invalidFields(domain.FieldError{Field: name, Code: "invalid_time",
			Message: domain.Text{Zh: name + " 必须是 RFC 3339 时间。", En: name + " must be an RFC 3339 time."}})
	}
	return &t, nil
}

func (a *API) listRefunds(ctx context.Context, r *request) (*reply, error) {
	p, err := pageOf(r)
	if err != nil {
		return nil, err
	}
	f := domain.RefundFilter{Status: domain.RefundStatus(r.query["status"]), Reason: domain.RefundReason(r.query["reason"]),
		CaseID: r.query["caseId"]}
	if f.From, err = timeQuery(r, "from"); err != nil {
		return nil, err
	}
	if f.To, err = timeQuery(r, "to"); err != nil {
		return nil, err
	}
	rs, next, err := a.svc.ListRefunds(ctx, r.actor, f, p)
	if err != nil {
		return nil, err
	}
	items := make([]adminRefundJSON, 0, len(rs))
	for i := range rs {
		items = append(items, adminRefundView(&rs[i]))
	}
	return ok(newPage(items, next))
}

func (a *API) retryRefund(ctx context.Context, r *request) (*reply, error) {
	if len(r.body) > 0 {
		var empty struct{}
		if err := DecodeJSON(r.body, &empty); err != nil {
			return nil, err
		}
	}
	f, err := a.svc.RetryRefund(ctx, r.actor, r.params["refundId"])
	if err != nil {
		return nil, err
	}
	return ok(adminRefundView(f))
}

func (a *API) listDiscrepancies(ctx context.Context, r *request) (*reply, error) {
	p, err := pageOf(r)
	if err != nil {
		return nil, err
	}
	f := domain.DiscrepancyFilter{Status: domain.DiscrepancyStatus(r.query["status"]), Kind: domain.DiscrepancyKind(r.query["kind"]),
		Source: domain.ReconSource(r.query["source"]), FromDay: r.query["from"], ToDay: r.query["to"]}
	ds, next, err := a.svc.ListDiscrepancies(ctx, r.actor, f, p)
	if err != nil {
		return nil, err
	}
	items := make([]discrepancyJSON, 0, len(ds))
	for i := range ds {
		items = append(items, discrepancyView(&ds[i]))
	}
	return ok(newPage(items, next))
}

func (a *API) resolveDiscrepancy(ctx context.Context, r *request) (*reply, error) {
	var b resolveBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	if err := required("note", b.Note != nil); err != nil {
		return nil, err
	}
	d, err := a.svc.ResolveDiscrepancy(ctx, r.actor, r.params["discrepancyId"], *b.Note)
	if err != nil {
		return nil, err
	}
	return ok(discrepancyView(d))
}

type subsidyLineJSON struct {
	CaseID       string       `json:"caseId"`
	EnterpriseID string       `json:"enterpriseId"`
	Kind         string       `json:"kind"`
	SubsidyFen   int64        `json:"subsidyFen"`
	At           apitime.Time `json:"at"`
}

type subsidyGroupJSON struct {
	Program    string            `json:"program"`
	Name       string            `json:"name"`
	RegionCode string            `json:"regionCode"`
	Cases      int               `json:"cases"`
	Reversals  int               `json:"reversals"`
	ClaimFen   int64             `json:"claimFen"`
	Lines      []subsidyLineJSON `json:"lines"`
}

type subsidyReportJSON struct {
	Month    string             `json:"month"`
	Currency string             `json:"currency"`
	TotalFen int64              `json:"totalFen"`
	Programs []subsidyGroupJSON `json:"programs"`
}

func (a *API) subsidyReport(ctx context.Context, r *request) (*reply, error) {
	month := r.query["month"]
	if month == "" {
		month = domain.Month(a.clock.Now().AddDate(0, -1, 0))
	}
	rep, err := a.svc.SubsidyReport(ctx, r.actor, month)
	if err != nil {
		return nil, err
	}
	out := subsidyReportJSON{Month: rep.Month, Currency: "CNY", TotalFen: rep.TotalFen, Programs: []subsidyGroupJSON{}}
	for _, g := range rep.Groups {
		gj := subsidyGroupJSON{Program: g.Program, Name: g.Name.In(r.lang), RegionCode: g.RegionCode, Cases: g.Cases,
			Reversals: g.Reversals, ClaimFen: g.ClaimFen, Lines: []subsidyLineJSON{}}
		for _, l := range g.Lines {
			gj.Lines = append(gj.Lines, subsidyLineJSON{CaseID: l.CaseID, EnterpriseID: l.EnterpriseID, Kind: string(l.Kind),
				SubsidyFen: l.SubsidyFen, At: apitime.Time(l.At)})
		}
		out.Programs = append(out.Programs, gj)
	}
	return ok(out)
}
