package notify

import (
	"encoding/json"
	"strings"
	"time"

	"microcert/shared/apitime"
	"microcert/shared/domain"
	"microcert/shared/webhook"
)

// Event is the body of a webhook delivery: ids and states, never personal
// data. Its id is stable across retries and redeliveries, so receivers
// deduplicate on it.
type Event struct {
	ID           string       `json:"id"`
	Type         string       `json:"type"`
	Created      apitime.Time `json:"created"`
	EnterpriseID string       `json:"enterpriseId"`
	Data         EventData    `json:"data"`
}

// EventData is what happened, to what.
type EventData struct {
	NotificationID string        `json:"notificationId"`
	Kind           string        `json:"kind"`
	CaseID         string        `json:"caseId,omitempty"`
	CaseKind       string        `json:"caseKind,omitempty"`
	CaseStatus     string        `json:"caseStatus,omitempty"`
	Decision       string        `json:"decision,omitempty"`
	CertType       string        `json:"certType,omitempty"`
	CertStatus     string        `json:"certStatus,omitempty"`
	ExpiresAt      *apitime.Time `json:"expiresAt,omitempty"`
	DaysLeft       int           `json:"daysLeft,omitempty"`
	UserID         string        `json:"userId,omitempty"`
	EndpointID     string        `json:"endpointId,omitempty"`
	AmountFen      int64         `json:"amountFen,omitempty"`
	RefundID       string        `json:"refundId,omitempty"`
	RefundStatus   string        `json:"refundStatus,omitempty"`
}

// EventIDPrefix starts every event id.
const EventIDPrefix = "evt_"

// EventPayload is the webhook body of a notification.
func EventPayload(n *domain.Notification) ([]byte, error) {
	spec, _ := domain.MessageFor(n.Kind)
	s := n.Subject
	ev := Event{ID: EventIDPrefix + n.ID, Type: spec.Event, Created: apitime.Time(n.CreatedAt), EnterpriseID: n.EnterpriseID,
		Data: EventData{NotificationID: n.ID, Kind: n.Kind, CaseID: s.CaseID, CaseKind: string(s.CaseKind),
			CaseStatus: string(s.CaseStatus), Decision: string(s.Decision), CertType: string(s.CertType),
			CertStatus: string(s.CertStatus), DaysLeft: s.DaysLeft, UserID: s.UserID, EndpointID: s.EndpointID, AmountFen: s.AmountFen,
			RefundID: s.RefundID, RefundStatus: string(s.RefundStatus)}}
	if ev.Data.CaseID == "" {
		ev.Data.CaseID = n.CaseID
	}
	if s.ExpiresAt != nil {
		t := apitime.Time(*s.ExpiresAt)
		ev.Data.ExpiresAt = &t
	}
	return json.Marshal(ev)
}

// Headers of a webhook delivery besides the signature.
const (
	HeaderEventID   = "X-Microcert-Event-Id"
	HeaderEventType = "X-Microcert-Event-Type"
	HeaderDelivery  = "X-Microcert-Delivery-Id"
)

// signedRequest is a delivery's POST: the body signed with every secret
// that signs at now (two during a rotation's overlap).
func signedRequest(e *domain.WebhookEndpoint, del *domain.Delivery, now time.Time) WebhookRequest {
	var sig []string
	for i, secret := range e.SigningSecrets(now) {
		h := webhook.Sign(secret, now, del.Payload)
		if i > 0 {
			_, h, _ = strings.Cut(h, ",") // one t=, then every v1=
		}
		sig = append(sig, h)
	}
	return WebhookRequest{URL: e.URL, Body: del.Payload, Headers: map[string]string{
		webhook.Header:    strings.Join(sig, ","),
		HeaderEventID:     EventIDPrefix + del.NotificationID,
		HeaderEventType:   del.Event,
		HeaderDelivery:    del.ID,
		"Idempotency-Key": del.ID,
		"Content-Type":    "application/json",
		"User-Agent":      "microcert-webhooks/1",
	}}
}
