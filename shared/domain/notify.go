package domain

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Notifications leave the service by four channels. Every Notification is
// written in the transaction of the state change that causes it, and is
// the outbox entry of that change: a dispatcher fans it out into one
// Delivery per channel and recipient (Plan), and delivers each at least
// once with the Delivery's id as the provider's idempotency key.

// Channel is a way a notification reaches someone.
type Channel string

const (
	// ChannelInApp is the enterprise's inbox: the notification itself,
	// with a read state per member. Always on: the inbox is the record of
	// what the enterprise was told.
	ChannelInApp Channel = "in_app"
	// ChannelWeChat is a WeChat subscription message (订阅消息) to a
	// member who subscribed to the message's template.
	ChannelWeChat Channel = "wechat"
	// ChannelSMS is a templated text message to a member's phone.
	ChannelSMS Channel = "sms"
	// ChannelWebhook is a signed POST to an integrator's endpoint.
	ChannelWebhook Channel = "webhook"
)

// Webhook event types (what an endpoint subscribes to).
const (
	EventCaseUpdated           = "case.updated"
	EventCertificationUpdated  = "certification.updated"
	EventCertificationExpiring = "certification.expiring"
	EventMemberUpdated         = "member.updated"
	EventEnterpriseUpdated     = "enterprise.updated"
	EventWebhookDisabled       = "webhook_endpoint.disabled"
	EventRefundUpdated         = "refund.updated"
)

// EventTypes are the event types an endpoint may subscribe to.
var EventTypes = []string{EventCaseUpdated, EventCertificationUpdated, EventCertificationExpiring,
	EventMemberUpdated, EventEnterpriseUpdated, EventWebhookDisabled, EventRefundUpdated}

// Notification kinds this file adds (the lifecycle's and membership's are
// with their rules; the jobs' in shared/jobs).
const (
	NoticeCaseSubmitted     = "case_submitted"
	NoticeCaseWithdrawn     = "case_withdrawn"
	NoticePaymentReceived   = "payment_received"
	NoticeDepositSent       = "deposit_sent"
	NoticeReviewLate        = "review_late"
	NoticeWebhookDisabled   = "webhook_endpoint_disabled"
	NoticeReminder          = "reminder"
	NoticeOverdue           = "expiry"
	NoticeLapsed            = "lapse"
	NoticePaymentAfterClose = "payment_after_close"
)

// NoticeSubject is what a notification is about, in ids and states only:
// it is the webhook payload's data and the source of the channel
// templates' parameters, so it never holds personal data.
type NoticeSubject struct {
	CaseID     string
	CaseKind   CaseKind
	CaseStatus CaseStatus
	Decision   DecisionKind
	CertType   CertType
	CertStatus CertStatus
	ExpiresAt  *time.Time
	// DaysLeft: a reminder's days before expiry.
	DaysLeft int
	// UserID: the member a membership notification is about.
	UserID string
	// EndpointID: the webhook endpoint a notification is about.
	EndpointID string
	AmountFen  int64
	// RefundID and RefundStatus: a refund's notification.
	RefundID     string
	RefundStatus RefundStatus
}

// Audience says which members get a notification on their personal
// channels (WeChat, SMS); the inbox is the enterprise's in any case.
type Audience string

const (
	AudienceMembers Audience = "members" // every member
	AudienceAdmins  Audience = "admins"  // owner and admins (who can act on it)
)

// Template is a provider template: a WeChat subscription-message template
// and an SMS template of the same purpose. The deployment maps each to the
// provider's template id (WeChat) or code (SMS), which the providers
// assign per account.
type Template string

const (
	TemplateExpiring     Template = "cert_expiring"  // 认证到期提醒
	TemplateCertStatus   Template = "cert_status"    // 认证状态变更通知
	TemplateCaseProgress Template = "case_progress"  // 审核进度通知
	TemplatePayment      Template = "payment_status" // 付款状态通知
)

// Templates lists every provider template.
var Templates = []Template{TemplateExpiring, TemplateCertStatus, TemplateCaseProgress, TemplatePayment}

// MessageSpec is what a kind of notification becomes outside the inbox.
type MessageSpec struct {
	Event    string   // webhook event type
	Template Template // "" = inbox and webhooks only
	Audience Audience
}

// messageSpecs: the one table of which message a notification kind
// causes. A kind missing here is an inbox-only notification.
var messageSpecs = map[string]MessageSpec{
	NoticeCaseSubmitted:     {EventCaseUpdated, TemplateCaseProgress, AudienceMembers},
	NoticeCaseWithdrawn:     {EventCaseUpdated, TemplateCaseProgress, AudienceMembers},
	NoticeDecision:          {EventCaseUpdated, TemplateCaseProgress, AudienceMembers},
	NoticeReviewLate:        {EventCaseUpdated, "", AudienceMembers},
	NoticeDepositSent:       {EventCaseUpdated, TemplateCaseProgress, AudienceMembers},
	NoticePaymentReceived:   {EventCaseUpdated, TemplatePayment, AudienceAdmins},
	NoticeRefund:            {EventRefundUpdated, TemplatePayment, AudienceAdmins},
	NoticePaymentAfterClose: {EventCaseUpdated, TemplatePayment, AudienceAdmins},
	NoticeReminder:          {EventCertificationExpiring, TemplateExpiring, AudienceMembers},
	NoticeOverdue:           {EventCertificationUpdated, TemplateCertStatus, AudienceMembers},
	NoticeLapsed:            {EventCertificationUpdated, TemplateCertStatus, AudienceMembers},
	NoticeRevoked:           {EventCertificationUpdated, TemplateCertStatus, AudienceMembers},
	NoticeReinstated:        {EventCertificationUpdated, TemplateCertStatus, AudienceMembers},
	NoticeCancelled:         {EventCertificationUpdated, TemplateCertStatus, AudienceMembers},
	NoticeMemberInvited:     {EventMemberUpdated, "", AudienceAdmins},
	NoticeMemberJoined:      {EventMemberUpdated, "", AudienceAdmins},
	NoticeMemberRemoved:     {EventMemberUpdated, "", AudienceAdmins},
	NoticeMemberRole:        {EventMemberUpdated, "", AudienceAdmins},
	NoticeOwnershipMoved:    {EventMemberUpdated, "", AudienceAdmins},
	NoticeDisputeLost:       {EventEnterpriseUpdated, TemplateCertStatus, AudienceAdmins},
	NoticeWebhookDisabled:   {EventWebhookDisabled, "", AudienceAdmins},
}

// MessageFor returns what a notification kind becomes outside the inbox.
func MessageFor(kind string) (MessageSpec, bool) {
	m, ok := messageSpecs[kind]
	return m, ok
}

// NotifyPrefs are a member's choices for the personal channels. WeChat
// needs the member's openid (of the enterprise's mini program) and the
// templates the member accepted (wx.requestSubscribeMessage); SMS a phone.
type NotifyPrefs struct {
	WeChat          bool
	SMS             bool
	WeChatOpenID    string
	WeChatTemplates []string // WeChat template ids the member subscribed to
	Phone           string   // mainland mobile number (PIPL: masked in responses, never logged)
	UpdatedAt       time.Time
}

// Limits of the preferences a member can set.
const (
	maxSubscribedTemplates = 20
	maxOpenIDLength        = 64
)

// ValidateNotifyPrefs checks preferences a member sent.
func ValidateNotifyPrefs(p NotifyPrefs) []FieldError {
	var out []FieldError
	if p.WeChatOpenID != "" && (len(p.WeChatOpenID) > maxOpenIDLength || !plainToken(p.WeChatOpenID)) {
		out = append(out, FieldError{Field: "wechat.openId", Code: "invalid_format",
			Message: Text{Zh: "openid 格式无效。", En: "The openid is not valid."}})
	}
	if p.WeChat && p.WeChatOpenID == "" {
		out = append(out, FieldError{Field: "wechat.openId", Code: "required",
			Message: Text{Zh: "开启微信通知需要 openid。", En: "WeChat notifications need an openid."}})
	}
	if len(p.WeChatTemplates) > maxSubscribedTemplates {
		out = append(out, FieldError{Field: "wechat.templateIds", Code: "too_many",
			Message: Text{Zh: fmt.Sprintf("最多订阅%d个模板。", maxSubscribedTemplates), En: fmt.Sprintf("At most %d templates.", maxSubscribedTemplates)}})
	}
	for i, t := range p.WeChatTemplates {
		if t == "" || len(t) > maxOpenIDLength || !plainToken(t) {
			out = append(out, FieldError{Field: fmt.Sprintf("wechat.templateIds[%d]", i), Code: "invalid_format",
				Message: Text{Zh: "模板 id 格式无效。", En: "The template id is not valid."}})
		}
	}
	if p.Phone != "" && ValidatePhone(p.Phone) != nil {
		out = append(out, FieldError{Field: "sms.phone", Code: "invalid_phone",
			Message: Text{Zh: "手机号格式无效。", En: "The phone number is not valid."}})
	}
	if p.SMS && p.Phone == "" {
		out = append(out, FieldError{Field: "sms.phone", Code: "required",
			Message: Text{Zh: "开启短信通知需要手机号。", En: "SMS notifications need a phone number."}})
	}
	return out
}

// plainToken: letters, digits, - and _ (openids and template ids).
func plainToken(s string) bool {
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// WebhookStatus is whether an endpoint receives deliveries.
type WebhookStatus string

const (
	WebhookEnabled  WebhookStatus = "enabled"
	WebhookDisabled WebhookStatus = "disabled" // by an admin, or after a delivery gave up
)

// WebhookEndpoint is an integrator's URL that receives the enterprise's
// events, signed with its secret.
type WebhookEndpoint struct {
	ID           string
	EnterpriseID string
	URL          string
	EventTypes   []string
	Status       WebhookStatus
	// DisabledReason: "failing" (a delivery gave up) or "admin".
	DisabledReason string
	// Secret signs every delivery; PreviousSecret also signs them until
	// PreviousUntil (a rotation's overlap), so receivers can switch over.
	Secret         string
	PreviousSecret string
	PreviousUntil  *time.Time
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Version        int
}

// Webhook endpoint limits and rules.
const (
	MaxWebhookEndpoints  = 10
	maxWebhookURLLength  = 2048
	WebhookSecretPrefix  = "whsec_"
	WebhookRotateOverlap = 24 * time.Hour
	DisabledFailing      = "failing"
	DisabledByAdmin      = "admin"
)

// SigningSecrets are the secrets that sign a delivery at now.
func (w *WebhookEndpoint) SigningSecrets(now time.Time) []string {
	out := []string{w.Secret}
	if w.PreviousSecret != "" && w.PreviousUntil != nil && now.Before(*w.PreviousUntil) {
		out = append(out, w.PreviousSecret)
	}
	return out
}

// Subscribed reports whether the endpoint receives event type t.
func (w *WebhookEndpoint) Subscribed(t string) bool {
	return w.Status == WebhookEnabled && (slices.Contains(w.EventTypes, "*") || slices.Contains(w.EventTypes, t))
}

// Rotate gives the endpoint a new secret; the old one keeps signing for
// WebhookRotateOverlap.
func (w *WebhookEndpoint) Rotate(secret string, now time.Time) {
	until := now.Add(WebhookRotateOverlap)
	w.PreviousSecret, w.PreviousUntil, w.Secret = w.Secret, &until, secret
}

// ValidateWebhookEndpoint checks an endpoint's URL and event types as an
// admin sent them. insecureHTTP allows http:// (the local stack only);
// where the URL resolves is checked when delivering (after DNS).
func ValidateWebhookEndpoint(rawURL string, events []string, insecureHTTP bool) []FieldError {
	var out []FieldError
	u, err := url.Parse(rawURL)
	switch {
	case err != nil || len(rawURL) > maxWebhookURLLength || u.Host == "" || u.User != nil || u.Fragment != "":
		out = append(out, FieldError{Field: "url", Code: "invalid_url",
			Message: Text{Zh: "URL 无效。", En: "The URL is not valid."}})
	case u.Scheme != "https" && !(insecureHTTP && u.Scheme == "http"):
		out = append(out, FieldError{Field: "url", Code: "https_required",
			Message: Text{Zh: "只接受 https 地址。", En: "Only https URLs are accepted."}})
	}
	if len(events) == 0 {
		out = append(out, FieldError{Field: "eventTypes", Code: "required",
			Message: Text{Zh: "至少订阅一种事件。", En: "Subscribe to at least one event type."}})
	}
	for i, e := range events {
		if e != "*" && !slices.Contains(EventTypes, e) {
			out = append(out, FieldError{Field: fmt.Sprintf("eventTypes[%d]", i), Code: "unknown_event_type",
				Message: Text{Zh: "未知的事件类型：" + e, En: "Unknown event type " + e + "."}})
		}
	}
	return out
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"   // due now or at NextAttemptAt
	DeliveryDelivered DeliveryStatus = "delivered" // the provider or endpoint accepted it
	DeliveryFailed    DeliveryStatus = "failed"    // refused for good (e.g. not subscribed): no retry
	DeliveryDead      DeliveryStatus = "dead"      // retried until the bound, then given up
)

// Delivery is one notification to one recipient by one channel. Its id
// is derived from the notification, channel and recipient, and is the
// idempotency key the provider (or the endpoint) sees on every attempt.
type Delivery struct {
	ID             string
	NotificationID string
	EnterpriseID   string
	Channel        Channel
	// Recipient: the member's user id, or the webhook endpoint's id.
	Recipient string
	Kind      string // the notification's kind
	Event     string // its webhook event type
	// What to send, fixed at fan-out: the provider template and its
	// parameters with the member's address (WeChat, SMS), or the event
	// payload (webhook).
	Template Template
	Params   []TemplateParam
	Address  string // openid or phone (PIPL: never logged)
	Payload  []byte
	Status   DeliveryStatus
	Attempts int
	// NextAttemptAt is when the delivery is due (pending only): the next
	// retry, or the end of a running attempt's lease.
	NextAttemptAt *time.Time
	LastError     string
	LastStatus    int // the HTTP status of the last attempt, 0 without one
	CreatedAt     time.Time
	UpdatedAt     time.Time
	DeliveredAt   *time.Time
	Version       int
}

// DeliveryID is the id (and idempotency key) of a notification's delivery
// to a recipient by a channel.
func DeliveryID(notificationID string, ch Channel, recipient string) string {
	return notificationID + "." + string(ch) + "." + recipient
}

// TemplateParam is one parameter of a provider template: the SMS
// parameter name, the WeChat data key of the same field, and its value.
type TemplateParam struct {
	Name   string
	WeChat string
	Value  string
}

// RetryPolicy says when a failed delivery is tried again: after First,
// doubling up to Max, for at most GiveUpAfter from the first attempt.
type RetryPolicy struct {
	First       time.Duration
	Max         time.Duration
	GiveUpAfter time.Duration
}

func (p RetryPolicy) valid() bool {
	return p.First > 0 && p.Max >= p.First && p.GiveUpAfter > 0
}

// Next is when to retry after the attempts-th failed attempt of a delivery
// created at created; ok false means give up (dead-letter).
func (p RetryPolicy) Next(attempts int, created, now time.Time) (time.Time, bool) {
	wait := p.First
	for i := 1; i < attempts && wait < p.Max; i++ {
		wait *= 2
	}
	wait = min(wait, p.Max)
	next := now.Add(wait)
	if next.Sub(created) > p.GiveUpAfter {
		return time.Time{}, false
	}
	return next, true
}

// Recipients of a notification: the enterprise's members with their
// preferences, and its webhook endpoints.
type Recipients struct {
	Members   []Member
	Endpoints []WebhookEndpoint
}

// ChannelTemplates maps a provider template to the provider's id or code;
// a template without one is not sent on that channel.
type ChannelTemplates map[Template]string

// Plan is the fan-out of a notification: one pending delivery per member
// and personal channel the member chose (WeChat only when subscribed to
// the template), and per endpoint subscribed to the event. payload is the
// webhook body (EventPayload).
func Plan(n *Notification, to Recipients, wechat, sms ChannelTemplates, payload []byte, now time.Time) []Delivery {
	spec, ok := MessageFor(n.Kind)
	if !ok {
		return nil
	}
	var out []Delivery
	add := func(ch Channel, recipient, address, tmpl string, body []byte) {
		out = append(out, Delivery{ID: DeliveryID(n.ID, ch, recipient), NotificationID: n.ID, EnterpriseID: n.EnterpriseID,
			Channel: ch, Recipient: recipient, Kind: n.Kind, Event: spec.Event, Template: Template(tmpl), Params: TemplateParams(n),
			Address: address, Payload: body, Status: DeliveryPending, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now, Version: 1})
	}
	if spec.Template != "" {
		for _, m := range to.Members {
			if spec.Audience == AudienceAdmins && m.Role != MemberOwner && m.Role != MemberAdmin {
				continue
			}
			p := m.Notify
			if id := wechat[spec.Template]; p.WeChat && p.WeChatOpenID != "" && id != "" && slices.Contains(p.WeChatTemplates, id) {
				add(ChannelWeChat, m.UserID, p.WeChatOpenID, id, nil)
			}
			if code := sms[spec.Template]; p.SMS && p.Phone != "" && code != "" {
				add(ChannelSMS, m.UserID, p.Phone, code, nil)
			}
		}
	}
	for _, e := range to.Endpoints {
		if e.Subscribed(spec.Event) {
			d := len(out)
			add(ChannelWebhook, e.ID, "", "", payload)
			out[d].Params, out[d].Template = nil, ""
		}
	}
	return out
}

// TemplateParams are the provider template's parameters for a
// notification (Chinese, as Chinese SMS and WeChat templates are; WeChat's
// thing fields hold at most 20 characters).
func TemplateParams(n *Notification) []TemplateParam {
	spec, _ := MessageFor(n.Kind)
	s := n.Subject
	switch spec.Template {
	case TemplateExpiring:
		date := ""
		if s.ExpiresAt != nil {
			date = s.ExpiresAt.In(Beijing()).Format("2006-01-02")
		}
		return []TemplateParam{
			{"type", "thing1", TypeName(s.CertType).Zh},
			{"date", "date2", date},
			{"days", "number3", strconv.Itoa(s.DaysLeft)},
			{"action", "thing4", "请在到期前发起年审"},
		}
	case TemplateCertStatus:
		return []TemplateParam{
			{"type", "thing1", TypeName(s.CertType).Zh},
			{"status", "phrase2", certStatusWord(n.Kind)},
			{"action", "thing3", "详情请进入应用查看"},
		}
	case TemplateCaseProgress:
		return []TemplateParam{
			{"case", "character_string1", shortID(s.CaseID)},
			{"status", "phrase2", caseProgressWord(n.Kind, s)},
			{"action", "thing3", "详情请进入应用查看"},
		}
	case TemplatePayment:
		return []TemplateParam{
			{"case", "character_string1", shortID(s.CaseID)},
			{"amount", "amount2", fmt.Sprintf("%d.%02d元", s.AmountFen/100, s.AmountFen%100)},
			{"status", "phrase3", paymentWord(n.Kind, s)},
		}
	}
	return nil
}

// shortID is the last 8 characters of an id: enough for a person to match
// a message with the case in the app.
func shortID(id string) string {
	if len(id) > 8 {
		return strings.ToUpper(id[len(id)-8:])
	}
	return strings.ToUpper(id)
}

func certStatusWord(kind string) string {
	switch kind {
	case NoticeOverdue:
		return "已到期"
	case NoticeLapsed:
		return "已失效"
	case NoticeRevoked:
		return "已撤销"
	case NoticeReinstated:
		return "已恢复"
	case NoticeCancelled:
		return "已注销"
	case NoticeDisputeLost:
		return "主体被认领"
	}
	return "已变更"
}

func caseProgressWord(kind string, s NoticeSubject) string {
	switch kind {
	case NoticeCaseSubmitted:
		return "已提交"
	case NoticeCaseWithdrawn:
		return "已撤回"
	case NoticeDepositSent:
		return "已打款"
	case NoticeDecision:
		switch s.Decision {
		case DecisionApprove:
			return "已通过"
		case DecisionReject:
			return "未通过"
		case DecisionRequestChanges:
			return "需补充材料"
		}
	}
	return "已更新"
}

func paymentWord(kind string, s NoticeSubject) string {
	switch {
	case kind == NoticePaymentReceived || kind == NoticePaymentAfterClose:
		return "已收款"
	case kind == NoticeRefund && s.RefundStatus == RefundSucceeded:
		return "已退款"
	case kind == NoticeRefund:
		return "退款处理中"
	}
	return "已更新"
}

// OutboxEntry is one item of the dispatcher's work: a notification to fan
// out, or a delivery to attempt.
type OutboxEntry struct {
	Notification *Notification
	Delivery     *Delivery
}

// DeliveryWrite creates or updates a delivery.
type DeliveryWrite struct {
	Delivery      *Delivery
	Create        bool
	ExpectVersion int
}

// ReadMark records that a member read a notification (written once).
type ReadMark struct {
	EnterpriseID   string
	UserID         string
	NotificationID string
	At             time.Time
}

// WebhookEndpointWrite creates, updates or deletes an endpoint.
type WebhookEndpointWrite struct {
	Endpoint      *WebhookEndpoint
	Create        bool
	Delete        bool
	ExpectVersion int
}

// WebhookDisabledNotice tells the enterprise's admins that an endpoint
// was turned off after a delivery gave up.
func WebhookDisabledNotice(e *WebhookEndpoint, now time.Time) Notification {
	return Notification{ID: NewIDAt(now), EnterpriseID: e.EnterpriseID, Kind: NoticeWebhookDisabled, CreatedAt: now,
		Title: Text{Zh: "Webhook 地址已停用", En: "Webhook endpoint disabled"},
		Body: Text{
			Zh: "发往 " + e.URL + " 的事件重试后仍未成功，该地址已停用，不再接收事件。请修复接收服务后在应用中重新启用，并可重新投递失败的事件。",
			En: "Events sent to " + e.URL + " kept failing after retries, so the endpoint was disabled and receives no more events. " +
				"Fix the receiver, enable the endpoint again and redeliver the failed events.",
		},
		Subject: NoticeSubject{EndpointID: e.ID}}
}

// CaseNotices are the notifications a write of a case causes, from what it
// was (prev) and what it becomes (next), with the refunds created in the
// same write: submitted (again, after changes too), withdrawn, the fee
// received (also after the case closed), a micro-deposit sent. Decisions
// have their own notice (DecisionNotice), written with the decision.
func CaseNotices(prev, next *Case, refunds []RefundWrite, now time.Time) []Notification {
	var out []Notification
	add := func(kind string, title, body Text, amount int64) {
		out = append(out, Notification{ID: NewIDAt(now), EnterpriseID: next.EnterpriseID, Kind: kind, CaseID: next.ID,
			Title: title, Body: body, CreatedAt: now,
			Subject: NoticeSubject{CaseID: next.ID, CaseKind: next.Kind, CaseStatus: next.Status, AmountFen: amount}})
	}
	types := typeList(next.Types)
	if next.Status == CaseSubmitted && prev.Status != CaseSubmitted {
		due := ""
		dueEn := ""
		if next.ReviewDueAt != nil {
			due = "，预计" + next.ReviewDueAt.In(Beijing()).Format("2006年1月2日") + "前完成审核"
			dueEn = ", to be reviewed by " + next.ReviewDueAt.In(Beijing()).Format("2 January 2006")
		}
		add(NoticeCaseSubmitted, Text{Zh: "认证申请已提交", En: "Application submitted"},
			Text{Zh: types.Zh + "认证申请已提交审核" + due + "。", En: "Your " + types.En + " application was submitted for review" + dueEn + "."}, 0)
	}
	if next.Status == CaseWithdrawn && prev.Status != CaseWithdrawn {
		add(NoticeCaseWithdrawn, Text{Zh: "认证申请已撤回", En: "Application withdrawn"},
			Text{Zh: types.Zh + "认证申请已撤回。", En: "Your " + types.En + " application was withdrawn."}, 0)
	}
	if p := next.Payment; p != nil && p.Status == PaymentPaid && (prev.Payment == nil || prev.Payment.Status != PaymentPaid) {
		add(NoticePaymentReceived, Text{Zh: "认证费用已到账", En: "Fee received"},
			Text{Zh: fmt.Sprintf("已收到认证费用%s元。", Yuan(p.PaidFen)), En: fmt.Sprintf("We received the fee of CNY %s.", Yuan(p.PaidFen))}, p.PaidFen)
	}
	for _, w := range refunds {
		if r := w.Refund; w.Create && r.Reason == RefundCaseClosed {
			add(NoticePaymentAfterClose, Text{Zh: "申请关闭后收到付款，将原路退回", En: "Payment after the application closed: it will be refunded"},
				Text{Zh: fmt.Sprintf("申请关闭后收到%s元付款，该款项将原路退回，无需您操作。", Yuan(r.AmountFen)),
					En: fmt.Sprintf("CNY %s arrived after the application closed; it will be paid back to where it came from, nothing is needed from you.", Yuan(r.AmountFen))},
				r.AmountFen)
		}
	}
	if d := next.Deposit; d != nil && d.Status == DepositPending && (prev.Deposit == nil || !prev.Deposit.CreatedAt.Equal(d.CreatedAt)) {
		add(NoticeDepositSent, Text{Zh: "小额打款已发出", En: "Micro-deposit sent"},
			Text{Zh: "已向尾号" + d.AccountLast4 + "的对公账户打入一笔小额款项，请于" + d.Deadline.In(Beijing()).Format("2006年1月2日15:04") + "前在应用内填写金额。",
				En: "A small amount was paid into the corporate account ending " + d.AccountLast4 + ": enter it in the app by " +
					d.Deadline.In(Beijing()).Format("2 January 2006 15:04") + " (Beijing time)."}, 0)
	}
	return out
}

// NewWebhookSecret is a fresh signing secret: "whsec_" and 32 random
// base32 characters (160 bits from crypto/rand).
func NewWebhookSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	out := make([]byte, len(b))
	for i, x := range b {
		out[i] = idAlphabet[x&31]
	}
	return WebhookSecretPrefix + string(out)
}

// Redeliver puts a finished delivery back in the outbox for one more
// attempt now (its retries count again from now).
func (d *Delivery) Redeliver(now time.Time) {
	d.Status, d.NextAttemptAt, d.DeliveredAt = DeliveryPending, &now, nil
	d.Attempts, d.CreatedAt, d.UpdatedAt = 0, now, now
	d.Version++
}

// ReviewLateNotice tells the enterprise that its case passed the review
// deadline (the reviewers see it flagged; nothing is asked of the
// enterprise).
func ReviewLateNotice(c *Case, now time.Time) Notification {
	due := ""
	dueEn := ""
	if c.ReviewDueAt != nil {
		due = c.ReviewDueAt.In(Beijing()).Format("2006年1月2日")
		dueEn = c.ReviewDueAt.In(Beijing()).Format("2 January 2006")
	}
	return Notification{ID: NewIDAt(now), EnterpriseID: c.EnterpriseID, Kind: NoticeReviewLate, CaseID: c.ID, CreatedAt: now,
		Title: Text{Zh: "审核超出预计时间", En: "Review is taking longer than planned"},
		Body: Text{Zh: "您的认证申请未能在" + due + "前完成审核，审核机构已收到提醒并将优先处理，您无需操作。",
			En: "Your application was not reviewed by " + dueEn + ". The reviewers have been alerted and will give it priority; nothing is needed from you."},
		Subject: NoticeSubject{CaseID: c.ID, CaseKind: c.Kind, CaseStatus: c.Status}}
}
