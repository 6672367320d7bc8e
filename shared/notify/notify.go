// Package notify is the dispatcher: it delivers the outbox that state
// changes write (the notification items on the sparse, sharded outbox
// index, shared/store) to people and integrators.
//
// A pass reads every shard's due entries (one Query each):
//
//   - a notification is fanned out: domain.Plan decides the deliveries from
//     the members' preferences and the enterprise's webhook endpoints; they
//     are written (each only if absent) and the notification leaves the
//     outbox. A crash in between repeats the fan-out, which adds nothing.
//   - a pending delivery is claimed (a versioned write that moves it past
//     a lease), attempted with its id as the idempotency key, and recorded:
//     delivered, failed for good, retried later (domain.RetryPolicy) or
//     dead after the policy's bound. A dispatcher that dies after sending
//     leaves the claim to expire, and the next pass sends again with the
//     same key: at least once, and exactly once at a provider that honours
//     the key. A dead webhook delivery disables its endpoint and tells the
//     enterprise's admins, in one transaction.
//
// Every attempt is counted per channel and outcome (EMF, namespace
// microcert). Phones and openids are never logged.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"microcert/shared/clock"
	"microcert/shared/domain"
)

// Store is the outbox and what a fan-out reads.
type Store interface {
	DueOutbox(ctx context.Context, shard int, before time.Time, limit int) ([]domain.OutboxEntry, error)
	FanOut(ctx context.Context, n *domain.Notification, deliveries []domain.Delivery, now time.Time) error
	GetEnterpriseState(ctx context.Context, id string) (*domain.EnterpriseState, error)
	WebhookEndpoints(ctx context.Context, enterpriseID string) ([]domain.WebhookEndpoint, error)
	Commit(ctx context.Context, ch *domain.Change) error
}

// WeChatMessage is a subscription message (订阅消息) to one user.
type WeChatMessage struct {
	OpenID         string
	TemplateID     string
	Data           map[string]string // the template's keys (thing1, date2, ...) and values
	Page           string            // the mini program page it opens
	IdempotencyKey string
}

// WeChatSender sends subscription messages.
type WeChatSender interface {
	SendSubscribeMessage(ctx context.Context, m WeChatMessage) error
}

// SMSMessage is a templated text message (no free text: Chinese SMS
// providers accept only approved templates).
type SMSMessage struct {
	Phone          string
	TemplateCode   string
	Params         map[string]string
	IdempotencyKey string
}

// SMSSender sends text messages.
type SMSSender interface {
	SendSMS(ctx context.Context, m SMSMessage) error
}

// WebhookRequest is one signed POST to an endpoint.
type WebhookRequest struct {
	URL     string
	Body    []byte
	Headers map[string]string
}

// WebhookPoster posts to integrators' endpoints.
type WebhookPoster interface {
	// Post answers nil for a 2xx, else a *SendError.
	Post(ctx context.Context, r WebhookRequest) error
}

// SendError is a channel's failure. Permanent ones (the user did not
// subscribe, the number is invalid, the endpoint refused the address) are
// not retried.
type SendError struct {
	Permanent bool
	Status    int // HTTP status, when there was an answer
	Reason    string
}

func (e *SendError) Error() string { return e.Reason }

// Permanent makes a SendError that is not retried.
func Permanent(status int, format string, a ...any) error {
	return &SendError{Permanent: true, Status: status, Reason: fmt.Sprintf(format, a...)}
}

// Transient makes a SendError that is retried.
func Transient(status int, format string, a ...any) error {
	return &SendError{Status: status, Reason: fmt.Sprintf(format, a...)}
}

// Outcomes counted per channel.
const (
	OutDelivered = "delivered"
	OutRetried   = "retried"
	OutFailed    = "failed"
	OutDead      = "dead"
	OutSkipped   = "skipped" // claimed by another dispatcher
	OutFannedOut = "fanned_out"
	OutError     = "error" // the outbox itself failed (store); the entry stays due
)

// Dispatcher delivers the outbox.
type Dispatcher struct {
	Store    Store
	WeChat   WeChatSender
	SMS      SMSSender
	Webhooks WebhookPoster
	Rules    domain.Rules
	// Templates: the providers' ids of the domain's templates.
	WeChatTemplates domain.ChannelTemplates
	SMSTemplates    domain.ChannelTemplates
	Clock           clock.Clock
	Log             *slog.Logger
	// Lease is how long a claimed delivery is hidden from other passes:
	// longer than one attempt can take (Timeout).
	Lease time.Duration
	// Timeout bounds one attempt.
	Timeout time.Duration
	// Batch is how many entries a pass reads per shard.
	Batch int
	// Shards is how many outbox shards there are (store.OutboxShards).
	Shards int
	// AfterSend, when set, runs after a provider accepted a delivery and
	// before it is recorded (a testing aid: the e2e tests crash the
	// process there).
	AfterSend func(*domain.Delivery)
}

// Stats are the outcomes per channel ("notification" for fan-outs), and
// the latency of each delivery from its state change (the notification's
// creation) to the provider's acceptance, in milliseconds.
type Stats struct {
	Counts    map[string]map[string]int
	LatencyMs map[string][]int64
}

// NewStats returns empty stats.
func NewStats() *Stats {
	return &Stats{Counts: map[string]map[string]int{}, LatencyMs: map[string][]int64{}}
}

func (s *Stats) add(channel, outcome string) {
	if s.Counts[channel] == nil {
		s.Counts[channel] = map[string]int{}
	}
	s.Counts[channel][outcome]++
}

// Total is how many entries the stats cover.
func (s *Stats) Total() int {
	n := 0
	for _, m := range s.Counts {
		for _, v := range m {
			n += v
		}
	}
	return n
}

// Pass reads every shard once and handles what is due.
func (d *Dispatcher) Pass(ctx context.Context, counts *Stats) error {
	var errs []error
	for shard := 0; shard < d.Shards; shard++ {
		now := d.Clock.Now()
		entries, err := d.Store.DueOutbox(ctx, shard, now, d.Batch)
		if err != nil {
			errs = append(errs, fmt.Errorf("shard %d: %w", shard, err))
			continue
		}
		for _, e := range entries {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			switch {
			case e.Notification != nil:
				if err := d.fanOut(ctx, e.Notification); err != nil {
					d.Log.Error("fan-out", "notification", e.Notification.ID, "kind", e.Notification.Kind, "err", err)
					counts.add("notification", OutError)
					continue
				}
				counts.add("notification", OutFannedOut)
			case e.Delivery != nil:
				ch := string(e.Delivery.Channel)
				outcome := d.deliver(ctx, e.Delivery)
				counts.add(ch, outcome)
				if at, ok := domain.IDTime(e.Delivery.NotificationID); ok && outcome == OutDelivered {
					counts.LatencyMs[ch] = append(counts.LatencyMs[ch], d.Clock.Now().Sub(at).Milliseconds())
				}
			}
		}
	}
	return errors.Join(errs...)
}

// fanOut plans a notification's deliveries and writes them.
func (d *Dispatcher) fanOut(ctx context.Context, n *domain.Notification) error {
	st, err := d.Store.GetEnterpriseState(ctx, n.EnterpriseID)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	var to domain.Recipients
	if st != nil {
		to.Members = st.Members
	}
	if to.Endpoints, err = d.Store.WebhookEndpoints(ctx, n.EnterpriseID); err != nil {
		return err
	}
	payload, err := EventPayload(n)
	if err != nil {
		return err
	}
	now := d.Clock.Now()
	plan := domain.Plan(n, to, d.WeChatTemplates, d.SMSTemplates, payload, now)
	return d.Store.FanOut(ctx, n, plan, now)
}

// deliver claims, attempts and records one delivery; it returns the
// outcome.
func (d *Dispatcher) deliver(ctx context.Context, cur *domain.Delivery) string {
	now := d.Clock.Now()
	claimed := *cur
	claimed.Attempts++
	claimed.Version++
	claimed.UpdatedAt = now
	lease := now.Add(d.Lease)
	claimed.NextAttemptAt = &lease
	if err := d.Store.Commit(ctx, &domain.Change{Deliveries: []domain.DeliveryWrite{{Delivery: &claimed, ExpectVersion: cur.Version}}}); err != nil {
		if errors.Is(err, domain.ErrVersionConflict) {
			return OutSkipped
		}
		d.Log.Error("claim delivery", "delivery", cur.ID, "err", err)
		return OutError
	}

	actx, cancel := context.WithTimeout(ctx, d.Timeout)
	endpoint, sendErr := d.send(actx, &claimed)
	cancel()
	if sendErr == nil && d.AfterSend != nil {
		d.AfterSend(&claimed)
	}

	next := claimed
	next.Version++
	now = d.Clock.Now()
	next.UpdatedAt = now
	next.LastError, next.LastStatus = "", 0
	var ch domain.Change
	outcome := OutDelivered
	var se *SendError
	switch {
	case sendErr == nil:
		next.Status, next.NextAttemptAt, next.DeliveredAt = domain.DeliveryDelivered, nil, &now
	case errors.As(sendErr, &se) && se.Permanent:
		next.Status, next.NextAttemptAt = domain.DeliveryFailed, nil
		next.LastError, next.LastStatus = se.Reason, se.Status
		outcome = OutFailed
	default:
		if errors.As(sendErr, &se) {
			next.LastError, next.LastStatus = se.Reason, se.Status
		} else {
			next.LastError = sendErr.Error()
		}
		policy := d.Rules.ChannelRetry
		if next.Channel == domain.ChannelWebhook {
			policy = d.Rules.WebhookRetry
		}
		if at, ok := policy.Next(next.Attempts, next.CreatedAt, now); ok {
			next.NextAttemptAt = &at
			outcome = OutRetried
		} else {
			next.Status, next.NextAttemptAt = domain.DeliveryDead, nil
			outcome = OutDead
			if endpoint != nil {
				ch = disableEndpoint(endpoint, now)
			}
		}
	}
	ch.Deliveries = append(ch.Deliveries, domain.DeliveryWrite{Delivery: &next, ExpectVersion: claimed.Version})
	if err := d.Store.Commit(ctx, &ch); err != nil {
		// The claim expires and a later pass attempts it again with the
		// same idempotency key.
		d.Log.Error("record delivery", "delivery", cur.ID, "channel", next.Channel, "outcome", outcome, "err", err)
		return OutError
	}
	attrs := []any{"delivery", next.ID, "channel", next.Channel, "kind", next.Kind, "attempt", next.Attempts, "outcome", outcome}
	if next.LastError != "" {
		attrs = append(attrs, "reason", next.LastError, "status", next.LastStatus)
	}
	if outcome == OutDelivered {
		d.Log.Info("delivery", attrs...)
	} else {
		d.Log.Warn("delivery", attrs...)
	}
	return outcome
}

// disableEndpoint is the Change that turns a failing endpoint off and
// tells the enterprise's admins.
func disableEndpoint(e *domain.WebhookEndpoint, now time.Time) domain.Change {
	next := *e
	next.Status, next.DisabledReason = domain.WebhookDisabled, domain.DisabledFailing
	w := domain.UpdateWebhookEndpoint(e, &next, now)
	return domain.Change{
		Endpoints:     []domain.WebhookEndpointWrite{w},
		Notifications: []domain.Notification{domain.WebhookDisabledNotice(&next, now)},
	}
}

// send makes one attempt. For webhooks it returns the endpoint it posted
// to (the one a dead delivery disables).
func (d *Dispatcher) send(ctx context.Context, del *domain.Delivery) (*domain.WebhookEndpoint, error) {
	switch del.Channel {
	case domain.ChannelWeChat:
		data := map[string]string{}
		for _, p := range del.Params {
			data[p.WeChat] = p.Value
		}
		return nil, d.WeChat.SendSubscribeMessage(ctx, WeChatMessage{OpenID: del.Address, TemplateID: string(del.Template),
			Data: data, Page: messagePage(del), IdempotencyKey: del.ID})
	case domain.ChannelSMS:
		params := map[string]string{}
		for _, p := range del.Params {
			params[p.Name] = p.Value
		}
		return nil, d.SMS.SendSMS(ctx, SMSMessage{Phone: del.Address, TemplateCode: string(del.Template), Params: params, IdempotencyKey: del.ID})
	case domain.ChannelWebhook:
		eps, err := d.Store.WebhookEndpoints(ctx, del.EnterpriseID)
		if err != nil {
			return nil, Transient(0, "read endpoint: %v", err)
		}
		for i := range eps {
			if e := &eps[i]; e.ID == del.Recipient {
				if e.Status != domain.WebhookEnabled {
					return nil, Permanent(0, "endpoint disabled")
				}
				return e, d.Webhooks.Post(ctx, signedRequest(e, del, d.Clock.Now()))
			}
		}
		return nil, Permanent(0, "endpoint deleted")
	}
	return nil, Permanent(0, "unknown channel %q", del.Channel)
}

// messagePage is the mini program page a WeChat message opens.
func messagePage(del *domain.Delivery) string {
	return "pages/notifications/index?id=" + del.NotificationID
}
