package certsvc

import (
	"context"

	"microcert/shared/domain"
	"microcert/shared/webhook"
)

// StartVerification opens a face (liveness) or QR-scan session for the
// legal representative on record (for a change case: the new one). The
// session is bound to that person (name and ID number): the provider
// checks the face against that identity and the phone against the
// registration, and if the legal rep changes afterwards the result no
// longer counts. Members whose role may verify the legal rep start it
// (PermVerifyLegalRep): never a service agent, so an agent preparing a case
// cannot pass the legal rep's verification for them. A new session
// replaces a failed or expired one, or a passed one that lost its binding.
func (s *Service) StartVerification(ctx context.Context, by domain.Actor, caseID string, kind domain.VerificationKind) (*domain.Verification, error) {
	var v *domain.Verification
	_, err := s.writeCase(ctx, by, caseID, asMember(domain.PermVerifyLegalRep), nil, func(cy *caseCycle) error {
		c := cy.Prev
		if err := editable(c); err != nil {
			return err
		}
		e := domain.CaseRequirementsEnterprise(cy.State, c)
		code := domain.ReqFaceVerification
		if kind == domain.VerifyQR {
			code = domain.ReqQRVerification
		}
		if !requiresItem(e, c, code) {
			return domain.E(domain.KindConflict, "verification_not_required",
				"本案件不需要此项验证。", "This case does not need this verification.")
		}
		cur := c.Face
		if kind == domain.VerifyQR {
			cur = c.QR
		}
		rep := domain.LegalRepFingerprint(e.LegalRep)
		if cur != nil && cur.Status == domain.VerificationPassed && cur.LegalRep == rep && !redoAsked(c, code) {
			return domain.E(domain.KindConflict, "already_verified", "已通过验证。", "Already verified.")
		}
		v = &domain.Verification{SessionID: domain.NewID(), Kind: kind, Status: domain.VerificationPending,
			ExpiresAt: cy.Now.Add(s.rules.VerificationSessionTTL), LegalRep: rep, StartedBy: cy.By.UserID}
		if kind == domain.VerifyQR {
			cy.Next.QR = v
		} else {
			cy.Next.Face = v
		}
		cy.Change.Refs = append(cy.Change.Refs, domain.Ref{Kind: domain.RefSession, ID: v.SessionID, CaseID: c.ID, ExpiresAt: v.ExpiresAt})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// redoAsked reports whether the reviewer's last request for changes sent
// requirement back.
func redoAsked(c *domain.Case, requirement string) bool {
	for _, it := range c.Redo {
		if it.Requirement == requirement {
			return true
		}
	}
	return false
}

// requiresItem reports whether the case's rules ask for a requirement code.
func requiresItem(e *domain.Enterprise, c *domain.Case, code string) bool {
	for _, x := range domain.RequiredItems(c, e.HasCorporateAccount, c.Fee.PayableFen) {
		if x == code {
			return true
		}
	}
	return false
}

// FaceResult is the face provider's callback.
type FaceResult struct {
	SessionID                string
	Result                   string // pass or fail
	PhoneMatchesRegistration bool
	LivenessScore            float64
}

// VerifyFaceCallback checks the provider's signature over the raw body.
func (s *Service) VerifyFaceCallback(header string, body []byte) error {
	return webhook.Verify(header, body, s.clock.Now(), s.secrets.FaceWebhook, s.secrets.FaceWebhookPrevious)
}

// RecordFaceResult stores a verified callback's result. A replay of a
// result already recorded changes nothing and is acknowledged.
func (s *Service) RecordFaceResult(ctx context.Context, r FaceResult) (*domain.Verification, error) {
	if r.Result != "pass" && r.Result != "fail" {
		return nil, invalidField("result", "invalid_result", "result 必须是 pass 或 fail。", "result must be pass or fail.")
	}
	if !domain.ValidID(r.SessionID) {
		return nil, domain.ErrNotFound
	}
	caseID, err := s.store.ResolveRef(ctx, domain.RefSession, r.SessionID)
	if err != nil {
		return nil, err
	}
	var v *domain.Verification
	_, err = s.writeCaseAlone(ctx, caseID, func(cy *caseCycle) error {
		c := cy.Prev
		switch {
		case c.Face != nil && c.Face.SessionID == r.SessionID:
			cp := *c.Face
			v, cy.Next.Face = &cp, &cp
		case c.QR != nil && c.QR.SessionID == r.SessionID:
			cp := *c.QR
			v, cy.Next.QR = &cp, &cp
		default:
			// Superseded by a newer session: nothing to record.
			return domain.E(domain.KindConflict, "session_superseded", "该验证会话已被新的会话取代。", "The session was replaced by a newer one.")
		}
		if v.Status == domain.VerificationPassed || v.Status == domain.VerificationFailed {
			cy.Skip() // replayed callback
			return nil
		}
		now := cy.Now
		if v.Status == domain.VerificationExpired || now.After(v.ExpiresAt) {
			return domain.E(domain.KindConflict, "session_expired", "验证会话已过期，请重新发起。", "The verification session expired; start a new one.")
		}
		match, score := r.PhoneMatchesRegistration, r.LivenessScore
		v.PhoneMatches, v.LivenessScore, v.CompletedAt = &match, &score, &now
		if r.Result == "pass" && match {
			v.Status = domain.VerificationPassed
		} else {
			v.Status = domain.VerificationFailed
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

func invalidField(field, code, zh, en string) error {
	return fieldsError([]domain.FieldError{{Field: field, Code: code, Message: domain.Text{Zh: zh, En: en}}})
}
