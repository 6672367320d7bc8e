package certsvc

import (
	"context"
	"time"

	"microcert/shared/domain"
	"microcert/shared/optimistic"
)

// CaseInput opens a case.
type CaseInput struct {
	EnterpriseID string
	Kind         domain.CaseKind
	Types        []domain.CertType
	ViaAgent     bool
	// AgentID names the agent member who prepares a case opened via an
	// agent (an agent opening a case names itself, or leaves it empty).
	AgentID string
	// Change: the new profile values of a change case.
	Change *domain.ProfileChange
}

// CaseView is everything the case screen shows.
type CaseView struct {
	Case         *domain.Case
	Enterprise   *domain.Enterprise
	Documents    []domain.Document
	History      []domain.HistoryEntry
	Requirements domain.Requirements
	// Refunds are the money the case owes back, in any state.
	Refunds []domain.Refund
	// Appeal is set on reviewers' and admins' views of an appeal.
	Appeal *domain.AppealContext
}

// OpenCase creates a draft case for one or more types with one fee, or a
// change case (kind change) carrying new profile values. At most one open
// case per enterprise and type (or profile, for a change): the case takes
// its slots in the same transaction that creates it, so of two racing
// creations one wins and the other re-reads and is answered
// case_already_open with the open case's id.
func (s *Service) OpenCase(ctx context.Context, by domain.Actor, in CaseInput) (*CaseView, error) {
	var fields []domain.FieldError
	if !in.Kind.Valid() || in.Kind == domain.KindDispute {
		fields = append(fields, domain.FieldError{Field: "kind", Code: "invalid_kind",
			Message: domain.Text{Zh: "kind 必须是 initial、annual_review、appeal、reinstatement 或 change（争议请使用 POST " + DisputeRoute + "）。",
				En: "kind must be initial, annual_review, appeal, reinstatement or change (disputes: POST " + DisputeRoute + ")."}})
	}
	if in.Kind == domain.KindChange && in.ViaAgent {
		fields = append(fields, domain.FieldError{Field: "viaAgent", Code: "via_agent_not_allowed",
			Message: domain.Text{Zh: "信息变更申请不能由服务商代办。", En: "A change case cannot be prepared by a service agent."}})
	}
	if in.AgentID != "" && !in.ViaAgent {
		fields = append(fields, domain.FieldError{Field: "agentId", Code: "agent_without_via_agent",
			Message: domain.Text{Zh: "只有 viaAgent 为 true 的申请可以指定服务商。", En: "Only a case with viaAgent true names an agent."}})
	}
	var types []domain.CertType
	if in.Kind == domain.KindChange {
		if len(in.Types) > 0 {
			fields = append(fields, domain.FieldError{Field: "types", Code: "invalid_types",
				Message: domain.Text{Zh: "信息变更申请不指定认证类型。", En: "A change case names no certification types."}})
		}
		fields = append(fields, s.validateChange(in.Change)...)
	} else {
		var typeErr []domain.FieldError
		types, typeErr = normalizeTypes(in.Types)
		fields = append(fields, typeErr...)
		if in.Change != nil {
			fields = append(fields, domain.FieldError{Field: "change", Code: "change_not_allowed",
				Message: domain.Text{Zh: "只有 kind 为 change 的申请可以携带 change。", En: "Only a case of kind change carries change."}})
		}
	}
	if err := fieldsError(fields); err != nil {
		return nil, err
	}
	var out *CaseView
	err := optimistic.Retry(ctx, func(ctx context.Context) error {
		st, as, err := s.enterpriseAs(ctx, by, in.EnterpriseID, domain.PermPrepare)
		if err != nil {
			return err
		}
		agentID, err := caseAgent(as, st, in)
		if err != nil {
			return err
		}
		e := st.Enterprise
		now := s.clock.Now()
		caseTypes := types
		if in.Kind == domain.KindChange {
			if caseTypes, err = domain.CanOpenChange(st.Certifications, now, s.rules); err != nil {
				return err
			}
		} else if err := domain.CanOpenCase(in.Kind, types, st.Certifications, now, s.rules); err != nil {
			return err
		}
		c := &domain.Case{
			ID:           domain.NewID(),
			EnterpriseID: e.ID,
			OpenedBy:     as.UserID,
			Kind:         in.Kind,
			Types:        caseTypes,
			ViaAgent:     in.ViaAgent,
			AgentID:      agentID,
			Status:       domain.CaseDraft,
			Version:      1,
			CreatedAt:    now,
			UpdatedAt:    now,
			Fee:          domain.FeeFor(in.Kind, e.Region(), s.rules),
			Change:       in.Change,
		}
		if err := st.CheckSlotsFree(c); err != nil {
			return err
		}
		h := domain.NewHistoryEntry("case", "", string(domain.CaseDraft), as, now, nil, viaAgentNote(agentID))
		ch := &domain.Change{
			Cases:   []domain.CaseWrite{{Case: c, Create: true}},
			History: []domain.HistoryRecord{{CaseID: c.ID, Entry: h}},
			Slots:   domain.SlotsFor(c, false),
		}
		if err := s.store.Commit(ctx, ch); err != nil {
			return err
		}
		out = s.view(c, st, nil, []domain.HistoryEntry{h})
		return nil
	})
	return out, err
}

// caseAgent checks who prepares a case opened via an agent and returns the
// agent's user id ("" for a case the enterprise prepares itself): an agent
// opens only cases via itself; anyone else names an agent member.
func caseAgent(by domain.Actor, st *domain.EnterpriseState, in CaseInput) (string, error) {
	if by.MemberRole == domain.MemberAgent {
		switch {
		case !in.ViaAgent:
			return "", invalidField("viaAgent", "via_agent_required",
				"服务商代办的申请须设置 viaAgent 为 true，并上传授权委托书。",
				"A service agent opens cases with viaAgent true (and uploads the authorization letter).")
		case in.AgentID != "" && in.AgentID != by.UserID:
			return "", invalidField("agentId", "agent_mismatch", "服务商只能指定自己。", "A service agent can only name itself.")
		}
		return by.UserID, nil
	}
	if !in.ViaAgent {
		return "", nil
	}
	if in.AgentID == "" {
		return "", invalidField("agentId", "agent_required",
			"服务商代办的申请须指定代办的服务商成员（agentId）。", "A case via an agent names the agent member who prepares it (agentId).")
	}
	if m := st.Member(in.AgentID); m == nil || m.Role != domain.MemberAgent {
		return "", invalidField("agentId", "agent_not_member",
			"agentId 不是本企业邀请的服务商成员。", "agentId is not a service agent member of this enterprise.")
	}
	return in.AgentID, nil
}

// viaAgentNote records in the history who prepares a case via an agent.
func viaAgentNote(agentID string) string {
	if agentID == "" {
		return ""
	}
	return "via agent " + agentID
}

func normalizeTypes(in []domain.CertType) ([]domain.CertType, []domain.FieldError) {
	bad := []domain.FieldError{{Field: "types", Code: "invalid_types",
		Message: domain.Text{Zh: "types 应为 wecom、official_account、mini_program 中的一个或多个，且不重复。",
			En: "types must list one or more of wecom, official_account, mini_program, without repeats."}}}
	if len(in) == 0 || len(in) > len(domain.CertTypes) {
		return nil, bad
	}
	seen := map[domain.CertType]bool{}
	for _, t := range in {
		if !t.Valid() || seen[t] {
			return nil, bad
		}
		seen[t] = true
	}
	// Stable order regardless of how the app listed them.
	var out []domain.CertType
	for _, t := range domain.CertTypes {
		if seen[t] {
			out = append(out, t)
		}
	}
	return out, nil
}

// GetCase returns the case view for the enterprise's members, reviewers
// and admins.
func (s *Service) GetCase(ctx context.Context, by domain.Actor, id string) (*CaseView, error) {
	rd, err := s.readCase(ctx, by, id, asMember(domain.PermRead))
	if err != nil {
		return nil, err
	}
	v := s.view(rd.Bundle.Case, rd.State, rd.Bundle.Documents, rd.Bundle.History)
	v.Refunds = rd.Bundle.Refunds
	return s.withStaffContext(ctx, by, v)
}

func (s *Service) view(c *domain.Case, st *domain.EnterpriseState, docs []domain.Document, hist []domain.HistoryEntry) *CaseView {
	if docs == nil {
		docs = []domain.Document{}
	}
	if hist == nil {
		hist = []domain.HistoryEntry{}
	}
	return &CaseView{
		Case: c, Enterprise: st.Enterprise, Documents: docs, History: hist,
		Requirements: domain.CaseRequirements(st, c, docs, s.clock.Now(), s.rules),
	}
}

// cycleView is the case view after a write cycle.
func (s *Service) cycleView(cy *caseCycle) *CaseView {
	v := s.view(cy.Next, cy.State, cy.Bundle.Documents, cy.History())
	v.Refunds = append([]domain.Refund(nil), cy.Bundle.Refunds...)
	for _, w := range cy.Change.Refunds {
		if w.Create {
			v.Refunds = append(v.Refunds, *w.Refund)
		}
	}
	return v
}

// editable reports whether the applicant may still change the case.
func editable(c *domain.Case) error {
	if c.Status == domain.CaseDraft || c.Status == domain.CaseChangesRequested {
		return nil
	}
	return domain.E(domain.KindConflict, "case_not_editable",
		"案件已提交或已结束，不能再修改。", "The case is submitted or closed and can no longer be changed.").With("caseStatus", string(c.Status))
}

// Submit sends the case to review once nothing is due: the requirements
// are derived again inside the write, from what it read, so a document that
// failed or a verification that lost its binding in between blocks it.
func (s *Service) Submit(ctx context.Context, by domain.Actor, id string) (*CaseView, error) {
	cy, err := s.writeCase(ctx, by, id, asMember(domain.PermPrepare), nil, func(cy *caseCycle) error {
		c := cy.Prev
		if c.Status == domain.CaseSubmitted {
			// A retried submit of an already submitted case is not an error.
			cy.Skip()
			return nil
		}
		if err := editable(c); err != nil {
			return err
		}
		req := domain.CaseRequirements(cy.State, c, cy.Bundle.Documents, cy.Now, s.rules)
		if !req.Satisfied() {
			return errRequirementsUnmet(req)
		}
		cal := s.Calendar(ctx)
		h, err := cy.Next.Submit(cy.By, cy.Now, s.rules, cal)
		if err != nil {
			return err
		}
		if cy.Next.ReviewDueProvisional() {
			_, last := cal.Range()
			s.log.Warn("review deadline is provisional: the working-day calendar ends before it", "alarm", "calendar_horizon",
				"case", c.ID, "calendarLastDay", last.Format(time.DateOnly), "calendarSource", cal.Source())
		}
		cy.Change.History = append(cy.Change.History, domain.HistoryRecord{CaseID: c.ID, Entry: h})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.cycleView(cy), nil
}

// errRequirementsUnmet answers a submission or an approval while
// something is still due, with the requirements as they stand.
func errRequirementsUnmet(req domain.Requirements) error {
	return domain.E(domain.KindConflict, "requirements_unmet",
		"仍有未完成的认证要求，请补齐后再提交。", "Some requirements are still open; complete them first.").
		WithRequirements(req)
}

// Withdraw backs out before a decision. A paid case nobody has claimed yet
// owes its fee back (the fee pays for a review that never started): the
// refund is created with the withdrawal and sent to the provider at once
// (the refund job retries what does not go through). The case's open-case
// slots are released with it.
func (s *Service) Withdraw(ctx context.Context, by domain.Actor, id string) (*CaseView, error) {
	cy, err := s.writeCase(ctx, by, id, asMember(domain.PermPrepare), nil, func(cy *caseCycle) error {
		if cy.Prev.Status == domain.CaseWithdrawn {
			cy.Skip()
			return nil
		}
		w, err := cy.Next.Withdraw(s.rules, cy.By, cy.Now, "")
		if err != nil {
			return err
		}
		cy.Next.UpdatedAt = cy.Now
		cy.Change.AddWithdrawal(cy.Prev.ID, w)
		s.expireDocuments(&cy.Change, cy.Next, cy.Bundle.Documents)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !cy.skip {
		s.sendNewRefunds(ctx, cy.Change.Refunds)
	}
	return s.cycleView(cy), nil
}

// expireDocuments schedules the documents of a case that just closed for
// deletion after the retention period (PIPL: identity documents are kept no
// longer than needed): the items get a TTL, and at the same time the expiry
// job tags the objects for the bucket's lifecycle rule.
func (s *Service) expireDocuments(ch *domain.Change, closed *domain.Case, docs []domain.Document) {
	at := closed.RetentionEndsAt(s.rules)
	if at == nil {
		return
	}
	closed.DocumentsExpireAt = at
	for i := range docs {
		d := docs[i]
		ch.Documents = append(ch.Documents, domain.DocumentWrite{Document: &d, ExpireAt: at})
	}
}
