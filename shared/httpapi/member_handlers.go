package httpapi

import (
	"context"

	"microcert/shared/certsvc"
	"microcert/shared/domain"
)

// Handlers of an enterprise's people (members, invitations, ownership),
// its history, and disputes of a USCC. Who may do what is the service's
// decision (domain.Authorize); the route table lets any signed-in user in.

type invitationBody struct {
	Role  *string `json:"role"`
	Label *string `json:"label"`
}

type redeemBody struct {
	Code *string `json:"code"`
}

type memberRoleBody struct {
	Role    *string `json:"role"`
	Version *int    `json:"version"`
}

type ownershipBody struct {
	UserID *string `json:"userId"`
}

func (a *API) listMembers(ctx context.Context, r *request) (*reply, error) {
	ms, err := a.svc.ListMembers(ctx, r.actor, r.params["enterpriseId"])
	if err != nil {
		return nil, err
	}
	items := make([]memberJSON, 0, len(ms))
	for i := range ms {
		items = append(items, memberView(&ms[i]))
	}
	return ok(newPage(items, ""))
}

func (a *API) changeMemberRole(ctx context.Context, r *request) (*reply, error) {
	var b memberRoleBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	if err := required("role", b.Role != nil); err != nil {
		return nil, err
	}
	m, err := a.svc.ChangeMemberRole(ctx, r.actor, r.params["enterpriseId"], r.params["userId"], domain.MemberRole(*b.Role), b.Version)
	if err != nil {
		return nil, err
	}
	return ok(memberView(m))
}

func (a *API) removeMember(ctx context.Context, r *request) (*reply, error) {
	if err := noFields(r); err != nil {
		return nil, err
	}
	if err := a.svc.RemoveMember(ctx, r.actor, r.params["enterpriseId"], r.params["userId"]); err != nil {
		return nil, err
	}
	return noContent()
}

func (a *API) transferOwnership(ctx context.Context, r *request) (*reply, error) {
	var b ownershipBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	if err := required("userId", b.UserID != nil); err != nil {
		return nil, err
	}
	v, err := a.svc.TransferOwnership(ctx, r.actor, r.params["enterpriseId"], *b.UserID)
	if err != nil {
		return nil, err
	}
	return ok(enterpriseView(v, a.clock.Now(), a.svc.Rules()))
}

func (a *API) createInvitation(ctx context.Context, r *request) (*reply, error) {
	var b invitationBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	if err := required("role", b.Role != nil); err != nil {
		return nil, err
	}
	inv, err := a.svc.CreateInvitation(ctx, r.actor, r.params["enterpriseId"], certsvc.InvitationInput{
		Role: domain.MemberRole(*b.Role), Label: str(b.Label)})
	if err != nil {
		return nil, err
	}
	out := invitationView(inv.Invitation, a.clock.Now())
	out.Code = inv.Code
	return created(out)
}

func (a *API) listInvitations(ctx context.Context, r *request) (*reply, error) {
	invs, err := a.svc.ListInvitations(ctx, r.actor, r.params["enterpriseId"])
	if err != nil {
		return nil, err
	}
	now := a.clock.Now()
	items := make([]invitationJSON, 0, len(invs))
	for i := range invs {
		items = append(items, invitationView(&invs[i], now))
	}
	return ok(newPage(items, ""))
}

func (a *API) revokeInvitation(ctx context.Context, r *request) (*reply, error) {
	if err := noFields(r); err != nil {
		return nil, err
	}
	inv, err := a.svc.RevokeInvitation(ctx, r.actor, r.params["enterpriseId"], r.params["invitationId"])
	if err != nil {
		return nil, err
	}
	return ok(invitationView(inv, a.clock.Now()))
}

// membershipJSON answers a redemption: the enterprise joined and the role.
type membershipJSON struct {
	EnterpriseID string `json:"enterpriseId"`
	memberJSON
}

func (a *API) redeemInvitation(ctx context.Context, r *request) (*reply, error) {
	var b redeemBody
	if err := DecodeJSON(r.body, &b); err != nil {
		return nil, err
	}
	if err := required("code", b.Code != nil); err != nil {
		return nil, err
	}
	m, err := a.svc.RedeemInvitation(ctx, r.actor, *b.Code)
	if err != nil {
		return nil, err
	}
	return ok(membershipJSON{EnterpriseID: m.EnterpriseID, memberJSON: memberView(m)})
}

func (a *API) listHistory(ctx context.Context, r *request) (*reply, error) {
	p, err := pageOf(r)
	if err != nil {
		return nil, err
	}
	hs, next, err := a.svc.ListHistory(ctx, r.actor, r.params["enterpriseId"], p)
	if err != nil {
		return nil, err
	}
	return ok(newPage(historyView(hs, r.actor.CanReview()), next))
}

func (a *API) openDispute(ctx context.Context, r *request) (*reply, error) {
	in, err := enterpriseInput(r.body)
	if err != nil {
		return nil, err
	}
	v, err := a.svc.OpenDispute(ctx, r.actor, in)
	if err != nil {
		return nil, err
	}
	return created(caseView(v, r.lang, false, a.asOf(ctx)))
}
