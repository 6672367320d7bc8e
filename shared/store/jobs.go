package store

import (
	"context"

	"microcert/shared/domain"
)

// Reads the scheduled jobs (shared/jobs) need beside the due-time lists.

// GetCertification reads one certification (strongly consistent GetItem,
// pk ENT#<entId>, sk B#CERT#<type>); domain.ErrNotFound if the enterprise
// never held the type. The reminder job re-reads a certification after a
// version conflict instead of waiting for the next day's run.
func (s *Store) GetCertification(ctx context.Context, enterpriseID string, t domain.CertType) (*domain.Certification, error) {
	av, err := s.getItem(ctx, entPK(enterpriseID), certSK(t))
	if err != nil {
		return nil, err
	}
	return ref(decode(av, "certification", certificationItem.domain))
}
