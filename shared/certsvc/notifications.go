package certsvc

import (
	"context"
	"errors"
	"slices"
	"time"

	"microcert/shared/domain"
	"microcert/shared/optimistic"
)

// Notifications as people and integrators see them: the inbox with a read
// state per member, each member's choices of channels, and the
// enterprise's webhook endpoints with their deliveries. What a state
// change tells whom is decided in the domain (domain.MessageFor,
// domain.Plan) and delivered by the dispatcher (shared/notify).

// InboxItem is a notification with when the caller read it.
type InboxItem struct {
	domain.Notification
	ReadAt *time.Time
}

// ListNotifications pages the enterprise's inbox, newest first, with the
// caller's read state: the page (one Query), then the profile, the
// caller's membership and read marks (one BatchGetItem), and only then the
// access decision, so nothing is answered before it.
func (s *Service) ListNotifications(ctx context.Context, by domain.Actor, enterpriseID string, p domain.Page) ([]InboxItem, string, error) {
	if !domain.ValidID(enterpriseID) {
		return nil, "", domain.ErrNotFound
	}
	notes, next, listErr := s.store.ListNotifications(ctx, enterpriseID, p)
	ids := make([]string, 0, len(notes))
	for _, n := range notes {
		ids = append(ids, n.ID)
	}
	st, marks, err := s.store.InboxState(ctx, enterpriseID, by.UserID, ids)
	if err != nil {
		return nil, "", err
	}
	if _, err := domain.Authorize(by, st, nil, domain.PermRead); err != nil {
		return nil, "", err
	}
	if listErr != nil {
		return nil, "", listErr
	}
	out := make([]InboxItem, 0, len(notes))
	for _, n := range notes {
		it := InboxItem{Notification: n}
		if at, ok := marks[n.ID]; ok {
			it.ReadAt = &at
		}
		out = append(out, it)
	}
	return out, next, nil
}

// MarkRead records that the caller read a notification (the first time
// stays).
func (s *Service) MarkRead(ctx context.Context, by domain.Actor, enterpriseID, notificationID string) (*InboxItem, error) {
	if _, _, err := s.enterpriseAs(ctx, by, enterpriseID, domain.PermRead); err != nil {
		return nil, err
	}
	n, err := s.store.FindNotification(ctx, enterpriseID, notificationID)
	if err != nil {
		return nil, err
	}
	at := s.clock.Now().UTC()
	err = s.store.Commit(ctx, &domain.Change{Reads: []domain.ReadMark{{EnterpriseID: enterpriseID, UserID: by.UserID, NotificationID: n.ID, At: at}}})
	if domain.CodeOf(err) == "duplicate" {
		// Read before: the first time stays.
		marks, err := s.store.ReadMarks(ctx, enterpriseID, by.UserID, []string{n.ID})
		if err != nil {
			return nil, err
		}
		at, err = marks[n.ID], nil
	}
	if err != nil {
		return nil, err
	}
	return &InboxItem{Notification: *n, ReadAt: &at}, nil
}

// NotificationSettings returns the caller's membership with its choices.
func (s *Service) NotificationSettings(ctx context.Context, by domain.Actor, enterpriseID string) (*domain.Member, error) {
	st, _, err := s.enterpriseAs(ctx, by, enterpriseID, domain.PermRead)
	if err != nil {
		return nil, err
	}
	m := st.Member(by.UserID)
	if m == nil {
		return nil, domain.ErrNotFound // staff read the enterprise but have no settings in it
	}
	return m, nil
}

// SetNotificationSettings replaces the caller's choices of channels.
func (s *Service) SetNotificationSettings(ctx context.Context, by domain.Actor, enterpriseID string, p domain.NotifyPrefs) (*domain.Member, error) {
	p.Phone = domain.NormalizePhone(p.Phone)
	if errs := domain.ValidateNotifyPrefs(p); len(errs) > 0 {
		return nil, fieldsError(errs)
	}
	var out *domain.Member
	err := optimistic.Retry(ctx, func(ctx context.Context) error {
		cur, err := s.NotificationSettings(ctx, by, enterpriseID)
		if err != nil {
			return err
		}
		next := *cur
		next.Notify = p
		next.Notify.UpdatedAt = s.clock.Now()
		w := domain.SaveMember(cur, next)
		if err := s.store.Commit(ctx, &domain.Change{Members: []domain.MemberWrite{w}}); err != nil {
			return err
		}
		out = w.Member
		return nil
	})
	return out, err
}

// NewEndpoint is a registered endpoint with its secret, shown only once.
type NewEndpoint struct {
	Endpoint *domain.WebhookEndpoint
	Secret   string
}

// WebhookInput registers an endpoint.
type WebhookInput struct {
	URL        string
	EventTypes []string
}

var errTooManyEndpoints = domain.E(domain.KindConflict, "too_many_webhook_endpoints",
	"Webhook 地址数量已达上限。", "The enterprise has the most webhook endpoints allowed.")

// CreateWebhookEndpoint registers an endpoint (owners and admins): the URL
// must be https and lead outside the network.
func (s *Service) CreateWebhookEndpoint(ctx context.Context, by domain.Actor, enterpriseID string, in WebhookInput) (*NewEndpoint, error) {
	if errs := domain.ValidateWebhookEndpoint(in.URL, in.EventTypes, s.insecureWebhooks); len(errs) > 0 {
		return nil, fieldsError(errs)
	}
	_, as, err := s.enterpriseAs(ctx, by, enterpriseID, domain.PermIntegrations)
	if err != nil {
		return nil, err
	}
	if err := s.checkWebhookURL(ctx, in.URL); err != nil {
		return nil, err
	}
	eps, err := s.store.WebhookEndpoints(ctx, enterpriseID)
	if err != nil {
		return nil, err
	}
	if len(eps) >= domain.MaxWebhookEndpoints {
		return nil, errTooManyEndpoints
	}
	now := s.clock.Now()
	e := &domain.WebhookEndpoint{ID: domain.NewIDAt(now), EnterpriseID: enterpriseID, URL: in.URL, EventTypes: slices.Compact(slices.Sorted(slices.Values(in.EventTypes))),
		Status: domain.WebhookEnabled, Secret: domain.NewWebhookSecret(), CreatedBy: as.UserID, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.store.Commit(ctx, &domain.Change{Endpoints: []domain.WebhookEndpointWrite{{Endpoint: e, Create: true}}}); err != nil {
		return nil, err
	}
	return &NewEndpoint{Endpoint: e, Secret: e.Secret}, nil
}

func (s *Service) checkWebhookURL(ctx context.Context, url string) error {
	if s.webhookURLs == nil {
		return nil
	}
	if err := s.webhookURLs.CheckURL(ctx, url); err != nil {
		return invalidField("url", "webhook_address_refused", "该地址指向内部网络或无法解析，不能接收事件。",
			"The URL does not resolve, or resolves to an address inside a network: it cannot receive events.")
	}
	return nil
}

// WebhookEndpoints lists the enterprise's endpoints (owners and admins).
func (s *Service) WebhookEndpoints(ctx context.Context, by domain.Actor, enterpriseID string) ([]domain.WebhookEndpoint, error) {
	if _, _, err := s.enterpriseAs(ctx, by, enterpriseID, domain.PermIntegrations); err != nil {
		return nil, err
	}
	return s.store.WebhookEndpoints(ctx, enterpriseID)
}

// endpointAs reads an endpoint of the enterprise for a caller who may
// manage integrations (one read): another enterprise's, or none, is 404.
func (s *Service) endpointAs(ctx context.Context, by domain.Actor, enterpriseID, endpointID string) (*domain.WebhookEndpoint, error) {
	if !domain.ValidID(enterpriseID) || !domain.ValidID(endpointID) {
		return nil, domain.ErrNotFound
	}
	st, ep, err := s.store.EndpointState(ctx, enterpriseID, by.UserID, endpointID)
	if err != nil {
		return nil, err
	}
	if _, err := domain.Authorize(by, st, nil, domain.PermIntegrations); err != nil {
		return nil, err
	}
	if ep == nil {
		return nil, domain.ErrNotFound
	}
	return ep, nil
}

// WebhookUpdate changes an endpoint: its event types, or whether it is
// enabled (enabling a disabled one is how an admin turns it back on after
// fixing the receiver).
type WebhookUpdate struct {
	EventTypes *[]string
	Enabled    *bool
}

// endpointWrite runs apply on the current endpoint and writes it under its
// version; the secret of a rotation is returned by apply's caller.
func (s *Service) endpointWrite(ctx context.Context, by domain.Actor, enterpriseID, endpointID string,
	apply func(*domain.WebhookEndpoint, time.Time) (remove bool, err error)) (*domain.WebhookEndpoint, error) {
	var out *domain.WebhookEndpoint
	err := optimistic.Retry(ctx, func(ctx context.Context) error {
		ep, err := s.endpointAs(ctx, by, enterpriseID, endpointID)
		if err != nil {
			return err
		}
		cur := *ep
		next := cur
		now := s.clock.Now()
		remove, err := apply(&next, now)
		if err != nil {
			return err
		}
		w := domain.UpdateWebhookEndpoint(&cur, &next, now)
		w.Delete = remove
		if err := s.store.Commit(ctx, &domain.Change{Endpoints: []domain.WebhookEndpointWrite{w}}); err != nil {
			return err
		}
		out = &next
		return nil
	})
	return out, err
}

// UpdateWebhookEndpoint applies u.
func (s *Service) UpdateWebhookEndpoint(ctx context.Context, by domain.Actor, enterpriseID, endpointID string, u WebhookUpdate) (*domain.WebhookEndpoint, error) {
	return s.endpointWrite(ctx, by, enterpriseID, endpointID, func(e *domain.WebhookEndpoint, _ time.Time) (bool, error) {
		if u.EventTypes != nil {
			if errs := domain.ValidateWebhookEndpoint(e.URL, *u.EventTypes, true); len(errs) > 0 {
				return false, fieldsError(errs)
			}
			e.EventTypes = slices.Compact(slices.Sorted(slices.Values(*u.EventTypes)))
		}
		if u.Enabled != nil {
			switch {
			case *u.Enabled:
				e.Status, e.DisabledReason = domain.WebhookEnabled, ""
			case e.Status == domain.WebhookEnabled:
				e.Status, e.DisabledReason = domain.WebhookDisabled, domain.DisabledByAdmin
			}
		}
		return false, nil
	})
}

// DeleteWebhookEndpoint removes an endpoint; its pending deliveries fail.
func (s *Service) DeleteWebhookEndpoint(ctx context.Context, by domain.Actor, enterpriseID, endpointID string) error {
	_, err := s.endpointWrite(ctx, by, enterpriseID, endpointID, func(*domain.WebhookEndpoint, time.Time) (bool, error) { return true, nil })
	return err
}

// RotateWebhookSecret gives an endpoint a new secret; the old one signs
// too for domain.WebhookRotateOverlap.
func (s *Service) RotateWebhookSecret(ctx context.Context, by domain.Actor, enterpriseID, endpointID string) (*NewEndpoint, error) {
	secret := domain.NewWebhookSecret()
	e, err := s.endpointWrite(ctx, by, enterpriseID, endpointID, func(e *domain.WebhookEndpoint, now time.Time) (bool, error) {
		e.Rotate(secret, now)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return &NewEndpoint{Endpoint: e, Secret: secret}, nil
}

// WebhookDeliveries pages an endpoint's deliveries, newest first.
func (s *Service) WebhookDeliveries(ctx context.Context, by domain.Actor, enterpriseID, endpointID string, p domain.Page) ([]domain.Delivery, string, error) {
	if _, err := s.endpointAs(ctx, by, enterpriseID, endpointID); err != nil {
		return nil, "", err
	}
	return s.store.ListEndpointDeliveries(ctx, endpointID, p)
}

var errDeliveryPending = domain.E(domain.KindConflict, "delivery_pending",
	"该事件仍在投递中。", "The delivery is still pending: it will be attempted again by itself.")

// Redeliver sends one of an endpoint's deliveries again, now (the same
// event id, so a receiver that got it before can tell).
func (s *Service) Redeliver(ctx context.Context, by domain.Actor, enterpriseID, endpointID, deliveryID string) (*domain.Delivery, error) {
	if _, err := s.endpointAs(ctx, by, enterpriseID, endpointID); err != nil {
		return nil, err
	}
	cur, err := s.store.GetDelivery(ctx, enterpriseID, deliveryID)
	switch {
	case errors.Is(err, domain.ErrNotFound) || (err == nil && (cur.Channel != domain.ChannelWebhook || cur.Recipient != endpointID)):
		return nil, domain.ErrNotFound
	case err != nil:
		return nil, err
	case cur.Status == domain.DeliveryPending:
		return nil, errDeliveryPending
	}
	next := *cur
	next.Redeliver(s.clock.Now())
	if err := s.store.Commit(ctx, &domain.Change{Deliveries: []domain.DeliveryWrite{{Delivery: &next, ExpectVersion: cur.Version}}}); err != nil {
		return nil, err
	}
	return &next, nil
}
