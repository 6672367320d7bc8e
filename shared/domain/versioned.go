package domain

import "time"

// NextVersion is the version an entity read at version v gets when it is
// written back under optimistic locking. It is the one place versions
// advance; the write names v as the version it expects to replace.
func NextVersion(v int) int { return v + 1 }

// UpdateCase makes next the successor of prev (read at prev.Version) and
// returns its conditional write.
func UpdateCase(prev, next *Case) CaseWrite {
	next.Version = NextVersion(prev.Version)
	return CaseWrite{Case: next, ExpectVersion: prev.Version}
}

// UpdateEnterprise makes next the successor of prev and returns its
// conditional write.
func UpdateEnterprise(prev, next *Enterprise, at time.Time) EnterpriseWrite {
	next.Version = NextVersion(prev.Version)
	next.UpdatedAt = at
	return EnterpriseWrite{Enterprise: next, ExpectVersion: prev.Version}
}

// UpdateCertification makes next the successor of prev and returns its
// conditional write.
func UpdateCertification(prev, next *Certification) CertificationWrite {
	next.Version = NextVersion(prev.Version)
	return CertificationWrite{Certification: next, ExpectVersion: prev.Version}
}

// UpdateWebhookEndpoint makes next the successor of prev and returns its
// conditional write.
func UpdateWebhookEndpoint(prev, next *WebhookEndpoint, at time.Time) WebhookEndpointWrite {
	next.Version = NextVersion(prev.Version)
	next.UpdatedAt = at
	return WebhookEndpointWrite{Endpoint: next, ExpectVersion: prev.Version}
}
