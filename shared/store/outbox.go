package store

import (
	"context"
	"errors"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/domain"
)

// The outbox. A notification item is written in the transaction of the
// state change that causes it and, while it waits to be fanned out, sits
// on DueIndex under one of OutboxShards partitions: that makes it the
// outbox entry, with no second item to keep in step. The dispatcher turns
// it into delivery items (one per channel and recipient), each on DueIndex
// while pending, then takes the notification off the index.
//
//	notification      ENT#<entId>  N#<at>#<id>                   due OUTBOX#<n> / <at>#N#<entId>#<id> (until fanned out)
//	delivery          ENT#<entId>  O#<deliveryId>                due OUTBOX#<n> / <nextAttemptAt>#O#<entId>#<deliveryId> (pending)
//	                                                             gsi1 HOOKDEL#<endpointId> / <createdAt>#<deliveryId> (webhook deliveries)
//	                                                             ttl deliveryRetention after it ended
//	webhook endpoint  ENT#<entId>  W#<endpointId>                -
//	read mark         ENT#<entId>  NR#<userId>#<notificationId>  -
//
// Shards spread the outbox over several index partitions (one partition's
// write rate is bounded); the dispatcher reads each with one Query.

// OutboxShards is how many DueIndex partitions the outbox uses.
const OutboxShards = 4

// deliveryRetention: how long a finished delivery stays listable.
const deliveryRetention = 30 * 24 * time.Hour

const (
	skDeliveryPrefix = "O#"
	skEndpointPrefix = "W#"
	skReadPrefix     = "NR#"
	outboxPKPrefix   = "OUTBOX#"
	hookDelPKPrefix  = "HOOKDEL#"
)

func outboxPK(key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	return outboxPKPrefix + strconv.Itoa(int(h.Sum32()%OutboxShards))
}
func deliverySK(id string) string               { return skDeliveryPrefix + id }
func endpointSK(id string) string               { return skEndpointPrefix + id }
func readSK(userID, noteID string) string       { return skReadPrefix + keyJoin(userID, noteID) }
func hookDeliveriesPK(endpointID string) string { return hookDelPKPrefix + endpointID }

// notificationItem: pk ENT#<entId>, sk N#<at>#<id>; on DueIndex until
// fanned out (only kinds that leave the inbox: domain.MessageFor).
type notificationItem struct {
	PK           string       `dynamodbav:"pk"`
	SK           string       `dynamodbav:"sk"`
	DuePK        string       `dynamodbav:"duepk,omitempty"`
	DueSK        string       `dynamodbav:"duesk,omitempty"`
	Entity       string       `dynamodbav:"entity"`
	ID           string       `dynamodbav:"id"`
	EnterpriseID string       `dynamodbav:"enterpriseId"`
	Kind         string       `dynamodbav:"kind"`
	CaseID       string       `dynamodbav:"caseId"`
	Title        textItem     `dynamodbav:"title"`
	Body         textItem     `dynamodbav:"body"`
	CreatedAt    time.Time    `dynamodbav:"createdAt"`
	Subject      *subjectItem `dynamodbav:"subject,omitempty"`
	FannedOutAt  *time.Time   `dynamodbav:"fannedOutAt,omitempty"`
}

type subjectItem struct {
	CaseID       string     `dynamodbav:"caseId,omitempty"`
	CaseKind     string     `dynamodbav:"caseKind,omitempty"`
	CaseStatus   string     `dynamodbav:"caseStatus,omitempty"`
	Decision     string     `dynamodbav:"decision,omitempty"`
	CertType     string     `dynamodbav:"certType,omitempty"`
	CertStatus   string     `dynamodbav:"certStatus,omitempty"`
	ExpiresAt    *time.Time `dynamodbav:"expiresAt,omitempty"`
	DaysLeft     int        `dynamodbav:"daysLeft,omitempty"`
	UserID       string     `dynamodbav:"userId,omitempty"`
	EndpointID   string     `dynamodbav:"endpointId,omitempty"`
	AmountFen    int64      `dynamodbav:"amountFen,omitempty"`
	RefundID     string     `dynamodbav:"refundId,omitempty"`
	RefundStatus string     `dynamodbav:"refundStatus,omitempty"`
}

func toSubject(s domain.NoticeSubject) *subjectItem {
	if s == (domain.NoticeSubject{}) {
		return nil
	}
	return &subjectItem{CaseID: s.CaseID, CaseKind: string(s.CaseKind), CaseStatus: string(s.CaseStatus),
		Decision: string(s.Decision), CertType: string(s.CertType), CertStatus: string(s.CertStatus),
		ExpiresAt: utcp(s.ExpiresAt), DaysLeft: s.DaysLeft, UserID: s.UserID, EndpointID: s.EndpointID, AmountFen: s.AmountFen,
		RefundID: s.RefundID, RefundStatus: string(s.RefundStatus)}
}

func (it *subjectItem) domain() domain.NoticeSubject {
	if it == nil {
		return domain.NoticeSubject{}
	}
	return domain.NoticeSubject{CaseID: it.CaseID, CaseKind: domain.CaseKind(it.CaseKind), CaseStatus: domain.CaseStatus(it.CaseStatus),
		Decision: domain.DecisionKind(it.Decision), CertType: domain.CertType(it.CertType), CertStatus: domain.CertStatus(it.CertStatus),
		ExpiresAt: it.ExpiresAt, DaysLeft: it.DaysLeft, UserID: it.UserID, EndpointID: it.EndpointID, AmountFen: it.AmountFen,
		RefundID: it.RefundID, RefundStatus: domain.RefundStatus(it.RefundStatus)}
}

// toNotificationItem: pending puts it in the outbox (when its kind leaves
// the inbox at all).
func toNotificationItem(n domain.Notification, pending bool) notificationItem {
	it := notificationItem{PK: entPK(n.EnterpriseID), SK: noteSK(n.CreatedAt, n.ID), Entity: "notification",
		ID: n.ID, EnterpriseID: n.EnterpriseID, Kind: n.Kind, CaseID: n.CaseID, Title: toText(n.Title),
		Body: toText(n.Body), CreatedAt: n.CreatedAt.UTC(), Subject: toSubject(n.Subject)}
	if _, leaves := domain.MessageFor(n.Kind); pending && leaves {
		it.DuePK, it.DueSK = outboxPK(n.ID), dueSK(n.CreatedAt, "N", n.EnterpriseID, n.ID)
	}
	return it
}

func (it notificationItem) domain() domain.Notification {
	return domain.Notification{ID: it.ID, EnterpriseID: it.EnterpriseID, Kind: it.Kind, CaseID: it.CaseID,
		Title: it.Title.domain(), Body: it.Body.domain(), CreatedAt: it.CreatedAt, Subject: it.Subject.domain()}
}

// notificationOps writes a new notification into the inbox and the outbox.
func (s *Store) notificationOps(n domain.Notification) ([]op, error) {
	if n.ID == "" || n.EnterpriseID == "" {
		return nil, internal("notification without id or enterprise")
	}
	return s.appendOp(toNotificationItem(n, true))
}

type notifyPrefsItem struct {
	WeChat          bool      `dynamodbav:"wechat"`
	SMS             bool      `dynamodbav:"sms"`
	WeChatOpenID    string    `dynamodbav:"wechatOpenId,omitempty"`
	WeChatTemplates []string  `dynamodbav:"wechatTemplates,omitempty"`
	Phone           string    `dynamodbav:"phone,omitempty"`
	UpdatedAt       time.Time `dynamodbav:"updatedAt"`
}

func toNotifyPrefs(p domain.NotifyPrefs) *notifyPrefsItem {
	if p.UpdatedAt.IsZero() {
		return nil
	}
	return &notifyPrefsItem{WeChat: p.WeChat, SMS: p.SMS, WeChatOpenID: p.WeChatOpenID, WeChatTemplates: p.WeChatTemplates,
		Phone: p.Phone, UpdatedAt: p.UpdatedAt.UTC()}
}

func (it *notifyPrefsItem) domain() domain.NotifyPrefs {
	if it == nil {
		return domain.NotifyPrefs{}
	}
	return domain.NotifyPrefs{WeChat: it.WeChat, SMS: it.SMS, WeChatOpenID: it.WeChatOpenID, WeChatTemplates: it.WeChatTemplates,
		Phone: it.Phone, UpdatedAt: it.UpdatedAt}
}

type paramItem struct {
	Name   string `dynamodbav:"name"`
	WeChat string `dynamodbav:"wechat"`
	Value  string `dynamodbav:"value"`
}

// deliveryItem: pk ENT#<entId>, sk O#<id>. Address is an openid or a
// phone (personal data: never logged).
type deliveryItem struct {
	PK             string      `dynamodbav:"pk"`
	SK             string      `dynamodbav:"sk"`
	DuePK          string      `dynamodbav:"duepk,omitempty"`
	DueSK          string      `dynamodbav:"duesk,omitempty"`
	GSI1PK         string      `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK         string      `dynamodbav:"gsi1sk,omitempty"`
	TTL            int64       `dynamodbav:"ttl,omitempty"`
	Entity         string      `dynamodbav:"entity"`
	ID             string      `dynamodbav:"id"`
	NotificationID string      `dynamodbav:"notificationId"`
	EnterpriseID   string      `dynamodbav:"enterpriseId"`
	Channel        string      `dynamodbav:"channel"`
	Recipient      string      `dynamodbav:"recipient"`
	Kind           string      `dynamodbav:"kind"`
	Event          string      `dynamodbav:"event"`
	Template       string      `dynamodbav:"template,omitempty"`
	Params         []paramItem `dynamodbav:"params,omitempty"`
	Address        string      `dynamodbav:"address,omitempty"`
	Payload        []byte      `dynamodbav:"payload,omitempty"`
	Status         string      `dynamodbav:"status"`
	Attempts       int         `dynamodbav:"attempts"`
	NextAttemptAt  *time.Time  `dynamodbav:"nextAttemptAt,omitempty"`
	LastError      string      `dynamodbav:"lastError,omitempty"`
	LastStatus     int         `dynamodbav:"lastStatus,omitempty"`
	CreatedAt      time.Time   `dynamodbav:"createdAt"`
	UpdatedAt      time.Time   `dynamodbav:"updatedAt"`
	DeliveredAt    *time.Time  `dynamodbav:"deliveredAt,omitempty"`
	Version        int         `dynamodbav:"version"`
}

func toDeliveryItem(d *domain.Delivery) deliveryItem {
	it := deliveryItem{PK: entPK(d.EnterpriseID), SK: deliverySK(d.ID), Entity: "delivery", ID: d.ID,
		NotificationID: d.NotificationID, EnterpriseID: d.EnterpriseID, Channel: string(d.Channel), Recipient: d.Recipient,
		Kind: d.Kind, Event: d.Event, Template: string(d.Template), Address: d.Address, Payload: d.Payload,
		Status: string(d.Status), Attempts: d.Attempts, NextAttemptAt: utcp(d.NextAttemptAt), LastError: d.LastError,
		LastStatus: d.LastStatus, CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), DeliveredAt: utcp(d.DeliveredAt),
		Version: d.Version}
	for _, p := range d.Params {
		it.Params = append(it.Params, paramItem(p))
	}
	if d.Status == domain.DeliveryPending && d.NextAttemptAt != nil {
		it.DuePK, it.DueSK = outboxPK(d.ID), dueSK(*d.NextAttemptAt, "O", d.EnterpriseID, d.ID)
	} else {
		it.TTL = epoch(d.UpdatedAt.Add(deliveryRetention))
	}
	if d.Channel == domain.ChannelWebhook {
		it.GSI1PK, it.GSI1SK = hookDeliveriesPK(d.Recipient), createdSK(d.CreatedAt, d.ID)
	}
	return it
}

func (it deliveryItem) domain() domain.Delivery {
	d := domain.Delivery{ID: it.ID, NotificationID: it.NotificationID, EnterpriseID: it.EnterpriseID,
		Channel: domain.Channel(it.Channel), Recipient: it.Recipient, Kind: it.Kind, Event: it.Event,
		Template: domain.Template(it.Template), Address: it.Address, Payload: it.Payload, Status: domain.DeliveryStatus(it.Status),
		Attempts: it.Attempts, NextAttemptAt: it.NextAttemptAt, LastError: it.LastError, LastStatus: it.LastStatus,
		CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, DeliveredAt: it.DeliveredAt, Version: it.Version}
	for _, p := range it.Params {
		d.Params = append(d.Params, domain.TemplateParam(p))
	}
	return d
}

func (s *Store) deliveryOps(w domain.DeliveryWrite) ([]op, error) {
	d := w.Delivery
	if d == nil || d.ID == "" || d.EnterpriseID == "" {
		return nil, internal("delivery write without id or enterprise")
	}
	return s.entityOps("delivery", toDeliveryItem(d), w.Create, d.Version, w.ExpectVersion)
}

// endpointItem: pk ENT#<entId>, sk W#<id>. The secrets sign deliveries, so
// they are stored as they are (the table is encrypted at rest); responses
// show a secret only when it is made.
type endpointItem struct {
	PK             string     `dynamodbav:"pk"`
	SK             string     `dynamodbav:"sk"`
	Entity         string     `dynamodbav:"entity"`
	ID             string     `dynamodbav:"id"`
	EnterpriseID   string     `dynamodbav:"enterpriseId"`
	URL            string     `dynamodbav:"url"`
	EventTypes     []string   `dynamodbav:"eventTypes"`
	Status         string     `dynamodbav:"status"`
	DisabledReason string     `dynamodbav:"disabledReason,omitempty"`
	Secret         string     `dynamodbav:"secret"`
	PreviousSecret string     `dynamodbav:"previousSecret,omitempty"`
	PreviousUntil  *time.Time `dynamodbav:"previousUntil,omitempty"`
	CreatedBy      string     `dynamodbav:"createdBy"`
	CreatedAt      time.Time  `dynamodbav:"createdAt"`
	UpdatedAt      time.Time  `dynamodbav:"updatedAt"`
	Version        int        `dynamodbav:"version"`
}

func toEndpointItem(w *domain.WebhookEndpoint) endpointItem {
	return endpointItem{PK: entPK(w.EnterpriseID), SK: endpointSK(w.ID), Entity: "webhook_endpoint", ID: w.ID,
		EnterpriseID: w.EnterpriseID, URL: w.URL, EventTypes: w.EventTypes, Status: string(w.Status),
		DisabledReason: w.DisabledReason, Secret: w.Secret, PreviousSecret: w.PreviousSecret, PreviousUntil: utcp(w.PreviousUntil),
		CreatedBy: w.CreatedBy, CreatedAt: w.CreatedAt.UTC(), UpdatedAt: w.UpdatedAt.UTC(), Version: w.Version}
}

func (it endpointItem) domain() domain.WebhookEndpoint {
	return domain.WebhookEndpoint{ID: it.ID, EnterpriseID: it.EnterpriseID, URL: it.URL, EventTypes: it.EventTypes,
		Status: domain.WebhookStatus(it.Status), DisabledReason: it.DisabledReason, Secret: it.Secret,
		PreviousSecret: it.PreviousSecret, PreviousUntil: it.PreviousUntil, CreatedBy: it.CreatedBy,
		CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, Version: it.Version}
}

func (s *Store) endpointOps(w domain.WebhookEndpointWrite) ([]op, error) {
	e := w.Endpoint
	if e == nil || e.ID == "" || e.EnterpriseID == "" {
		return nil, internal("webhook endpoint write without id or enterprise")
	}
	if w.Delete {
		return s.versionedDelete("webhook endpoint", itemKey(entPK(e.EnterpriseID), endpointSK(e.ID)), w.ExpectVersion)
	}
	return s.entityOps("webhook endpoint", toEndpointItem(e), w.Create, e.Version, w.ExpectVersion)
}

type readMarkItem struct {
	PK             string    `dynamodbav:"pk"`
	SK             string    `dynamodbav:"sk"`
	Entity         string    `dynamodbav:"entity"`
	NotificationID string    `dynamodbav:"notificationId"`
	UserID         string    `dynamodbav:"userId"`
	ReadAt         time.Time `dynamodbav:"readAt"`
}

// DueOutbox lists the outbox work of one shard due at or before before,
// earliest first: notifications to fan out and pending deliveries (one
// Query of DueIndex).
func (s *Store) DueOutbox(ctx context.Context, shard int, before time.Time, limit int) ([]domain.OutboxEntry, error) {
	pk := outboxPKPrefix + strconv.Itoa(shard)
	kc := expression.Key(attrDuePK).Equal(expression.Value(pk)).
		And(expression.Key(attrDueSK).LessThanEqual(expression.Value(ts(before) + "#" + hi)))
	in := &dynamodb.QueryInput{IndexName: aws.String(indexDue), Limit: aws.Int32(int32(limit))}
	if err := s.prepare(in, kc); err != nil {
		return nil, err
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, mapErr(err)
	}
	entries := make([]domain.OutboxEntry, 0, len(out.Items))
	for _, av := range out.Items {
		switch stringAttr(av, "entity") {
		case "notification":
			n, err := ref(decode(av, "notification", notificationItem.domain))
			if err != nil {
				return nil, err
			}
			entries = append(entries, domain.OutboxEntry{Notification: n})
		case "delivery":
			d, err := ref(decode(av, "delivery", deliveryItem.domain))
			if err != nil {
				return nil, err
			}
			entries = append(entries, domain.OutboxEntry{Delivery: d})
		}
	}
	return entries, nil
}

// FanOut writes a notification's deliveries (each only if absent, so a
// fan-out that runs again after a crash adds nothing twice), then takes
// the notification out of the outbox.
func (s *Store) FanOut(ctx context.Context, n *domain.Notification, deliveries []domain.Delivery, now time.Time) error {
	for i := range deliveries {
		o, err := s.deliveryOps(domain.DeliveryWrite{Delivery: &deliveries[i], Create: true})
		if err != nil {
			return err
		}
		if err := s.single(ctx, o[0]); err != nil && !errors.Is(err, domain.ErrVersionConflict) {
			return err
		}
	}
	it := toNotificationItem(*n, false)
	it.FannedOutAt = &now
	av, err := marshalItem(it)
	if err != nil {
		return err
	}
	o, err := s.putIf(av, expression.AttributeExists(expression.Name(attrDuePK)), ErrDuplicate, false)
	if err != nil {
		return err
	}
	if err := s.single(ctx, o); err != nil && !errors.Is(err, ErrDuplicate) {
		return err
	}
	return nil
}

// WebhookEndpoints lists an enterprise's endpoints (Query W#, consistent).
func (s *Store) WebhookEndpoints(ctx context.Context, enterpriseID string) ([]domain.WebhookEndpoint, error) {
	return listRecords[endpointItem](ctx, s, entPK(enterpriseID), skEndpointPrefix, "webhook endpoint")
}

// GetDelivery reads one delivery of an enterprise.
func (s *Store) GetDelivery(ctx context.Context, enterpriseID, id string) (*domain.Delivery, error) {
	av, err := s.getItem(ctx, entPK(enterpriseID), deliverySK(id))
	if err != nil {
		return nil, err
	}
	return ref(decode(av, "delivery", deliveryItem.domain))
}

// ListEndpointDeliveries pages an endpoint's deliveries, newest first
// (GSI1 HOOKDEL#<endpointId>, backwards).
func (s *Store) ListEndpointDeliveries(ctx context.Context, endpointID string, p domain.Page) ([]domain.Delivery, string, error) {
	pk := hookDeliveriesPK(endpointID)
	spec := cursorSpec{index: indexGSI1, hashAttr: attrGSI1PK, hashValue: pk, rangeAttr: attrGSI1SK,
		prefixes: map[string]string{attrPK: prefixEnt, attrSK: skDeliveryPrefix}}
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(pk))
	items, next, err := s.queryPage(ctx, &dynamodb.QueryInput{IndexName: aws.String(indexGSI1), ScanIndexForward: aws.Bool(false)}, kc, spec, p)
	if err != nil {
		return nil, "", err
	}
	out, err := decodeAll(items, "delivery", deliveryItem.domain)
	return out, next, err
}

// FindNotification reads one notification of an enterprise by id: the
// id's millisecond bounds its sort key, so one Query of that millisecond.
func (s *Store) FindNotification(ctx context.Context, enterpriseID, id string) (*domain.Notification, error) {
	at, ok := domain.IDTime(id)
	if !ok {
		return nil, domain.ErrNotFound
	}
	kc := expression.Key(attrPK).Equal(expression.Value(entPK(enterpriseID))).
		And(expression.Key(attrSK).Between(expression.Value(skNotePrefix+ts(at)), expression.Value(skNotePrefix+ts(at.Add(time.Millisecond)))))
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{ConsistentRead: aws.Bool(true)}, kc)
	if err != nil {
		return nil, err
	}
	for _, av := range items {
		if stringAttr(av, "id") == id {
			return ref(decode(av, "notification", notificationItem.domain))
		}
	}
	return nil, domain.ErrNotFound
}

// readMarkOps writes a read mark once (a second is ErrDuplicate: the
// first time stays).
func (s *Store) readMarkOps(m domain.ReadMark) ([]op, error) {
	if m.EnterpriseID == "" || m.UserID == "" || m.NotificationID == "" {
		return nil, internal("read mark without enterprise, user or notification")
	}
	return s.appendOp(readMarkItem{PK: entPK(m.EnterpriseID), SK: readSK(m.UserID, m.NotificationID), Entity: "read_mark",
		NotificationID: m.NotificationID, UserID: m.UserID, ReadAt: m.At.UTC()})
}

// ReadMarks returns when userID read each of the notifications (absent:
// unread), with one BatchGetItem per 100.
func (s *Store) ReadMarks(ctx context.Context, enterpriseID, userID string, ids []string) (map[string]time.Time, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, itemKey(entPK(enterpriseID), readSK(userID, id)))
	}
	items, err := s.batchGet(ctx, keys, true)
	if err != nil {
		return nil, err
	}
	marks, err := decodeAll(items, "read mark", identity[readMarkItem])
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(marks))
	for _, m := range marks {
		out[m.NotificationID] = m.ReadAt
	}
	return out, nil
}

// InboxState is what a page of the inbox needs besides the page, in one
// BatchGetItem: the profile and the caller's membership (to authorize the
// read) and the caller's read marks of the page's notifications.
func (s *Store) InboxState(ctx context.Context, enterpriseID, userID string, ids []string) (*domain.EnterpriseState, map[string]time.Time, error) {
	pk := entPK(enterpriseID)
	keys := []map[string]types.AttributeValue{itemKey(pk, skProfile)}
	if userID != "" {
		keys = append(keys, itemKey(pk, memberSK(userID)))
		for _, id := range ids {
			keys = append(keys, itemKey(pk, readSK(userID, id)))
		}
	}
	items, err := s.batchGet(ctx, keys, true)
	if err != nil {
		return nil, nil, err
	}
	var stateItems []map[string]types.AttributeValue
	marks := map[string]time.Time{}
	for _, av := range items {
		if !strings.HasPrefix(stringAttr(av, attrSK), skReadPrefix) {
			stateItems = append(stateItems, av)
			continue
		}
		m, err := decode(av, "read mark", identity[readMarkItem])
		if err != nil {
			return nil, nil, err
		}
		marks[m.NotificationID] = m.ReadAt
	}
	st, err := s.stateOf(enterpriseID, stateItems)
	if err != nil {
		return nil, nil, err
	}
	return st, marks, nil
}

// EndpointState reads, in one BatchGetItem, the profile, userID's
// membership (to authorize) and one webhook endpoint (nil when the
// enterprise has none with that id).
func (s *Store) EndpointState(ctx context.Context, enterpriseID, userID, endpointID string) (*domain.EnterpriseState, *domain.WebhookEndpoint, error) {
	pk := entPK(enterpriseID)
	keys := []map[string]types.AttributeValue{itemKey(pk, skProfile), itemKey(pk, endpointSK(endpointID))}
	if userID != "" {
		keys = append(keys, itemKey(pk, memberSK(userID)))
	}
	items, err := s.batchGet(ctx, keys, true)
	if err != nil {
		return nil, nil, err
	}
	var stateItems []map[string]types.AttributeValue
	var ep *domain.WebhookEndpoint
	for _, av := range items {
		if !strings.HasPrefix(stringAttr(av, attrSK), skEndpointPrefix) {
			stateItems = append(stateItems, av)
			continue
		}
		if ep, err = ref(decode(av, "webhook endpoint", endpointItem.domain)); err != nil {
			return nil, nil, err
		}
	}
	st, err := s.stateOf(enterpriseID, stateItems)
	if err != nil {
		return nil, nil, err
	}
	return st, ep, nil
}
