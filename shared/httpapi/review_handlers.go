package httpapi

import (
	"context"

	"microcert/shared/certsvc"
	"microcert/shared/domain"
)

// Handlers of the reviewers' and admins' routes and of the certification
// endings (cancel, revoke). Roles are checked by the route table first and
// again by the service.

type decisionBody struct {
	Decision *string    `json:"decision"`
	Reasons  []string   `json:"reasons"`
	Note     *string    `json:"note"`
	Redo     []redoBody `json:"redo"`
	Version  *int       `json:"version"`
}

// redoBody names one requirement a request for changes sends back.
type redoBody struct {
	Requirement *string `json:"requirement"`
	Reason      *string `json:"reason"`
	Note        *string `json:"note"`
}

type cancelBody struct {
	Reason *string `json:"reason"`
}

type revokeBody struct {
	Reason   *string `json:"reason"`
	Severity *string `json:"severity"`
}

// queueItemJSON is a case summary plus its SLA state (openapi QueueItem);
// review.slaState and review.overdueWorkingDays carry the same state.
type queueItemJSON struct {
	caseJSON
	SLAState string `json:"slaState"`
}

// reviewQueue: GET /v1/review/queue, earliest reviewDueAt first.
func (a *API) reviewQueue(ctx context.Context, r *request) (*reply, error) {
	p, err := pageOf(r)
	if err != nil {
		return nil, err
	}
	items, next, err := a.svc.ListQueue(ctx, r.actor, p)
	if err != nil {
		return nil, err
	}
	at := a.asOf(ctx)
	out := make([]queueItemJSON, 0, len(items))
	for i := range items {
		c := withStaffDetail(caseSummary(&items[i].Case, at), &items[i].Case)
		c.Review.SLAState, c.Review.OverdueDays = items[i].SLAState, items[i].OverdueWorkingDays
		out = append(out, queueItemJSON{caseJSON: c, SLAState: items[i].SLAState})
	}
	return ok(newPage(out, next))
}

// claim: POST /v1/cases/{caseId}/claim. It takes no fields.
func (a *API) claim(ctx context.Context, r *request) (*reply, error) {
	if err := noFields(r); err != nil {
		return nil, err
	}
	v, err := a.svc.Claim(ctx, r.actor, r.params["caseId"])
	if err != nil {
		return nil, err
	}
	return ok(caseView(v, r.lang, true, a.asOf(ctx)))
}

// revealPath is the route of RevealLegalRep.
const revealPath = "/v1/review/cases/{caseId}/reveal"

// reveal: POST /v1/review/cases/{caseId}/reveal (the claim's holder). No
// body is read; every call is audited and none is replayed.
func (a *API) reveal(ctx context.Context, r *request) (*reply, error) {
	v, err := a.svc.RevealLegalRep(ctx, r.actor, r.params["caseId"])
	if err != nil {
		return nil, err
	}
	return ok(revealView(v))
}

// decide: POST /v1/cases/{caseId}/decision.
func (a *API) decide(ctx context.Context, r *request) (*reply, error) {
	var b decisionBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	if err := required("decision", b.Decision != nil, "version", b.Version != nil); err != nil {
		return nil, err
	}
	in := certsvc.DecisionInput{Decision: domain.DecisionKind(*b.Decision), Reasons: b.Reasons, Note: str(b.Note), Version: *b.Version}
	for _, it := range b.Redo {
		if err := required("redo.requirement", it.Requirement != nil, "redo.reason", it.Reason != nil); err != nil {
			return nil, err
		}
		in.Redo = append(in.Redo, certsvc.RedoInput{Requirement: *it.Requirement, Reason: *it.Reason, Note: str(it.Note)})
	}
	res, err := a.svc.Decide(ctx, r.actor, r.params["caseId"], in)
	if err != nil {
		return nil, err
	}
	return ok(caseView(res.View, r.lang, true, a.asOf(ctx)))
}

// cancelCertification: POST /v1/enterprises/{enterpriseId}/certifications/{type}/cancel
// (the owner; body optional: {reason}).
func (a *API) cancelCertification(ctx context.Context, r *request) (*reply, error) {
	var b cancelBody
	if len(r.body) > 0 {
		if err := DecodeJSON(r.body, &b); err != nil {
			return nil, err
		}
	}
	t := domain.CertType(r.params["type"])
	v, err := a.svc.Cancel(ctx, r.actor, r.params["enterpriseId"], certsvc.CancelInput{Type: t, Reason: str(b.Reason)})
	if err != nil {
		return nil, err
	}
	return a.certReply(v, t)
}

// revokeCertification: POST /v1/enterprises/{enterpriseId}/certifications/{type}/revoke
// (admins: {reason, severity}).
func (a *API) revokeCertification(ctx context.Context, r *request) (*reply, error) {
	var b revokeBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	if err := required("reason", b.Reason != nil, "severity", b.Severity != nil); err != nil {
		return nil, err
	}
	t := domain.CertType(r.params["type"])
	v, err := a.svc.Revoke(ctx, r.actor, r.params["enterpriseId"], certsvc.RevokeInput{Type: t, Reason: *b.Reason, Severity: *b.Severity})
	if err != nil {
		return nil, err
	}
	return a.certReply(v, t)
}

// certReply answers with the certification of type t (openapi
// Certification); the capabilities it now grants are in GET enterprise.
func (a *API) certReply(v *certsvc.EnterpriseView, t domain.CertType) (*reply, error) {
	for i := range v.Certifications {
		if v.Certifications[i].Type == t {
			return ok(certView(&v.Certifications[i], a.clock.Now(), a.svc.Rules()))
		}
	}
	return nil, domain.ErrNotFound
}
