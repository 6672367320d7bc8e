package domain

import "time"

// Capability values (what a certification state allows).
const (
	PaymentsNone             = "none"
	PaymentsNative           = "native"
	DataToolsBasic           = "basic"
	DataToolsAdvanced        = "advanced"
	SearchExposureLow        = "low"
	SearchExposureBadgeFirst = "badge_first"
)

// Capabilities are what one certification type unlocks for an enterprise
// at a moment.
//
// ExternalContactsLimit is the cap on external contacts; nil (JSON null)
// means unlimited. A pointer rather than a 0-means-unlimited int, so that
// no client can mistake "unlimited" for "none allowed".
type Capabilities struct {
	Certified                bool   `json:"certified"`
	Suspended                bool   `json:"suspended"` // overdue: certified capabilities withheld until the annual review
	ExternalContactsLimit    *int   `json:"externalContactsLimit"`
	Payments                 string `json:"payments"`
	DataTools                string `json:"dataTools"`
	SearchExposure           string `json:"searchExposure"`
	BrandMiniProgramEligible bool   `json:"brandMiniProgramEligible"`
}

type capabilitySet struct {
	unlimitedContacts bool // else capped at r.UncertifiedExternalContacts
	payments          string
	dataTools         string
	searchExposure    string
	brandMiniProgram  bool
}

// uncertifiedCapabilities is the "not certified" column: the same for every
// type.
var uncertifiedCapabilities = capabilitySet{
	payments:       PaymentsNone,
	dataTools:      DataToolsBasic,
	searchExposure: SearchExposureLow,
}

// certifiedCapabilities is the "certified" column per type. Some
// capabilities need their own type's certification, so each type
// unlocks what it is for and keeps the uncertified value of the others:
// wecom the unlimited customer contacts, official_account the payment
// interface, mini_program in-app payment, the advanced data tools and the
// brand mini program privilege. Every certified type shows the badge first
// in search.
var certifiedCapabilities = map[CertType]capabilitySet{
	CertWeCom: {
		unlimitedContacts: true,
		payments:          PaymentsNone,
		dataTools:         DataToolsBasic,
		searchExposure:    SearchExposureBadgeFirst,
	},
	CertOfficialAccount: {
		payments:       PaymentsNative,
		dataTools:      DataToolsBasic,
		searchExposure: SearchExposureBadgeFirst,
	},
	CertMiniProgram: {
		payments:         PaymentsNative,
		dataTools:        DataToolsAdvanced,
		searchExposure:   SearchExposureBadgeFirst,
		brandMiniProgram: true,
	},
}

// CapabilitiesFor gives the capabilities a certification (nil: the type
// was never held) grants at now, by its effective status: active -> the
// type's certified set; overdue -> the uncertified set with Suspended;
// lapsed, cancelled, revoked or none -> the uncertified set.
func CapabilitiesFor(cert *Certification, now time.Time, r Rules) Capabilities {
	if cert == nil {
		return uncertifiedCapabilities.build(r, false, false)
	}
	switch cert.EffectiveStatus(now, r) {
	case CertActive:
		if set, ok := certifiedCapabilities[cert.Type]; ok {
			return set.build(r, true, false)
		}
	case CertOverdue:
		return uncertifiedCapabilities.build(r, false, true)
	}
	return uncertifiedCapabilities.build(r, false, false)
}

func (s capabilitySet) build(r Rules, certified, suspended bool) Capabilities {
	c := Capabilities{
		Certified:                certified,
		Suspended:                suspended,
		Payments:                 s.payments,
		DataTools:                s.dataTools,
		SearchExposure:           s.searchExposure,
		BrandMiniProgramEligible: s.brandMiniProgram,
	}
	if !s.unlimitedContacts {
		n := r.UncertifiedExternalContacts
		c.ExternalContactsLimit = &n
	}
	return c
}
