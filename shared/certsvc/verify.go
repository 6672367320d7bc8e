package certsvc

import (
	"context"
	"time"

	"microcert/shared/domain"
	"microcert/shared/webhook"
)

// StartVerification opens a face (liveness) or QR-scan session for the
// legal representative. A new session replaces a failed or expired one.
func (s *Service) StartVerification(ctx context.Context, by domain.Actor, caseID string, kind domain.VerificationKind) (*domain.Verification, error) {
	b, e, err := s.ownedBundle(ctx, by, caseID)
	if err != nil {
		return nil, err
	}
	c := b.Case
	if err := editable(c); err != nil {
		return nil, err
	}
	code := "face_verification"
	if kind == domain.VerifyQR {
		code = "qr_verification"
	}
	if !requiresItem(e, c, code) {
		return nil, domain.E(domain.KindConflict, "verification_not_required",
			"本案件不需要此项验证。", "This case does not need this verification.")
	}
	cur := c.Face
	if kind == domain.VerifyQR {
		cur = c.QR
	}
	now := s.clock.Now()
	if cur != nil && cur.Status == domain.VerificationPassed {
		return nil, domain.E(domain.KindConflict, "already_verified", "已通过验证。", "Already verified.")
	}
	v := &domain.Verification{SessionID: domain.NewID(), Kind: kind, Status: domain.VerificationPending,
		ExpiresAt: now.Add(s.rules.VerificationSessionTTL)}
	next := *c
	if kind == domain.VerifyQR {
		next.QR = v
	} else {
		next.Face = v
	}
	ch := &domain.Change{
		Refs: []domain.Ref{{Kind: domain.RefSession, ID: v.SessionID, CaseID: c.ID, ExpiresAt: v.ExpiresAt}},
	}
	if err := s.saveCase(ctx, c, &next, now, ch); err != nil {
		return nil, err
	}
	return v, nil
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
	return retryOnConflict(ctx, func() (*domain.Verification, error) {
		c, err := s.store.GetCase(ctx, caseID)
		if err != nil {
			return nil, err
		}
		next := *c
		var v *domain.Verification
		switch {
		case c.Face != nil && c.Face.SessionID == r.SessionID:
			cp := *c.Face
			v, next.Face = &cp, &cp
		case c.QR != nil && c.QR.SessionID == r.SessionID:
			cp := *c.QR
			v, next.QR = &cp, &cp
		default:
			// Superseded by a newer session: nothing to record.
			return nil, domain.E(domain.KindConflict, "session_superseded", "该验证会话已被新的会话取代。", "The session was replaced by a newer one.")
		}
		if v.Status == domain.VerificationPassed || v.Status == domain.VerificationFailed {
			return v, nil // replayed callback
		}
		now := s.clock.Now()
		if v.Status == domain.VerificationExpired || now.After(v.ExpiresAt) {
			return nil, domain.E(domain.KindConflict, "session_expired", "验证会话已过期，请重新发起。", "The verification session expired; start a new one.")
		}
		match, score := r.PhoneMatchesRegistration, r.LivenessScore
		v.PhoneMatches, v.LivenessScore, v.CompletedAt = &match, &score, &now
		if r.Result == "pass" && match {
			v.Status = domain.VerificationPassed
		} else {
			v.Status = domain.VerificationFailed
		}
		if err := s.saveCase(ctx, c, &next, now, nil); err != nil {
			return nil, err
		}
		return v, nil
	})
}

// retryOnConflict reruns fn a few times when a concurrent writer bumped the
// version in between: used where the caller (a provider, a job) cannot be
// asked to reload and retry itself.
func retryOnConflict[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	var out T
	var err error
	for i := 0; i < 4; i++ {
		out, err = fn()
		if domain.CodeOf(err) != domain.ErrVersionConflict.Code {
			return out, err
		}
		select {
		case <-ctx.Done():
			return out, err
		case <-time.After(time.Duration(10*(i+1)) * time.Millisecond):
		}
	}
	return out, err
}

func invalidField(field, code, zh, en string) error {
	return fieldsError([]domain.FieldError{{Field: field, Code: code, Message: domain.Text{Zh: zh, En: en}}})
}
