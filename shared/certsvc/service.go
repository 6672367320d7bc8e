package certsvc

import (
	"context"
	"log/slog"
	"time"

	"microcert/shared/blob"
	"microcert/shared/clock"
	"microcert/shared/domain"
)

// Store is what the use cases need from persistence.
type Store interface {
	GetEnterpriseState(ctx context.Context, id string) (*domain.EnterpriseState, error)
	GetEnterpriseStatesAs(ctx context.Context, userID string, ids ...string) (map[string]*domain.EnterpriseState, error)
	GetEnterprises(ctx context.Context, ids []string) (map[string]*domain.Enterprise, error)
	GetUSCCClaim(ctx context.Context, uscc string) (*domain.USCCClaim, error)
	GetCase(ctx context.Context, id string) (*domain.Case, error)
	GetCases(ctx context.Context, ids []string) ([]domain.Case, error)
	GetCaseBundle(ctx context.Context, id string) (*domain.CaseBundle, error)
	FindDocument(ctx context.Context, docID string) (*domain.Document, error)
	ListCases(ctx context.Context, enterpriseID string, p domain.Page) ([]domain.Case, string, error)
	ListMemberships(ctx context.Context, userID string, p domain.Page) ([]domain.Member, string, error)
	ListEnterpriseHistory(ctx context.Context, enterpriseID string, p domain.Page) ([]domain.HistoryEntry, string, error)
	ListNotifications(ctx context.Context, enterpriseID string, p domain.Page) ([]domain.Notification, string, error)
	FindNotification(ctx context.Context, enterpriseID, id string) (*domain.Notification, error)
	ReadMarks(ctx context.Context, enterpriseID, userID string, ids []string) (map[string]time.Time, error)
	InboxState(ctx context.Context, enterpriseID, userID string, ids []string) (*domain.EnterpriseState, map[string]time.Time, error)
	WebhookEndpoints(ctx context.Context, enterpriseID string) ([]domain.WebhookEndpoint, error)
	EndpointState(ctx context.Context, enterpriseID, userID, endpointID string) (*domain.EnterpriseState, *domain.WebhookEndpoint, error)
	GetDelivery(ctx context.Context, enterpriseID, id string) (*domain.Delivery, error)
	ListEndpointDeliveries(ctx context.Context, endpointID string, p domain.Page) ([]domain.Delivery, string, error)
	ListQueue(ctx context.Context, p domain.Page) ([]domain.Case, string, error)
	EnterpriseHistory(ctx context.Context, enterpriseID string) ([]domain.HistoryEntry, error)
	ResolveRef(ctx context.Context, kind domain.RefKind, id string) (string, error)
	Commit(ctx context.Context, ch *domain.Change) error
	// Money (refunds.go, money.go).
	GetRefund(ctx context.Context, caseID, id string) (*domain.Refund, error)
	MoneyStore
}

// Blob is what the use cases need from object storage.
type Blob interface {
	// PresignUpload returns a presigned POST pinned to key, content type
	// and a content-length-range of 1..maxBytes.
	PresignUpload(ctx context.Context, key, contentType string, maxBytes int64, ttl time.Duration) (blob.PresignedPost, error)
	// PresignDownload returns a short-lived GET URL for key.
	PresignDownload(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// Calendars gives the working-day calendar in force: the built-in data as
// extended by the operator's document (shared/holidays), refreshed now and
// then. It never fails: on trouble it keeps what it had.
type Calendars interface {
	Calendar(ctx context.Context) *domain.Calendar
}

// builtinCalendar is the Calendars of a service configured without one.
type builtinCalendar struct{}

func (builtinCalendar) Calendar(context.Context) *domain.Calendar { return domain.BuiltinCalendar() }

// Secrets are the keys the use cases need.
type Secrets struct {
	FaceWebhook            string
	FaceWebhookPrevious    string
	PaymentWebhook         string
	PaymentWebhookPrevious string
	DepositHMACKey         string
}

// Service runs the use cases.
type Service struct {
	store   Store
	blob    Blob
	clock   clock.Clock
	rules   domain.Rules
	secrets Secrets
	cals    Calendars
	log     *slog.Logger
	// refunds is the payment provider's refund API (nil: refunds stay
	// pending until a function with a provider sends them).
	refunds RefundProvider
	// handoff hands refunds just made owed to RefundFunction (nil: they
	// are sent in-process once their change is written).
	handoff RefundHandoff
	// randFen draws the micro-deposit amount; crypto/rand in production.
	randFen          func() (int64, error)
	webhookURLs      URLChecker
	insecureWebhooks bool
}

// Config wires a Service.
type Config struct {
	Store   Store
	Blob    Blob
	Clock   clock.Clock
	Rules   domain.Rules
	Secrets Secrets
	// Calendars is the working-day calendar; nil means the built-in data.
	Calendars Calendars
	Log       *slog.Logger
	// Refunds is the payment provider's refund API.
	Refunds RefundProvider
	// Handoff, when set, is how a request hands the refunds it made owed
	// to the function that sends them (the API: an async invoke of
	// RefundFunction), so no request waits for the provider.
	Handoff RefundHandoff
	// WebhookURLs checks where an endpoint's URL leads when it is
	// registered (the dispatcher checks again on every delivery).
	WebhookURLs URLChecker
	// InsecureWebhooks accepts http:// endpoints (the local stack only).
	InsecureWebhooks bool
}

// URLChecker refuses URLs that lead inside the network.
type URLChecker interface {
	CheckURL(ctx context.Context, url string) error
}

// New builds a Service.
func New(c Config) *Service {
	if c.Clock == nil {
		c.Clock = clock.System{}
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Calendars == nil {
		c.Calendars = builtinCalendar{}
	}
	return &Service{store: c.Store, blob: c.Blob, clock: c.Clock, rules: c.Rules, secrets: c.Secrets, cals: c.Calendars,
		log: c.Log, refunds: c.Refunds, handoff: c.Handoff, randFen: randomFen, webhookURLs: c.WebhookURLs, insecureWebhooks: c.InsecureWebhooks}
}

// Calendar is the working-day calendar in force (also for views that count
// working days).
func (s *Service) Calendar(ctx context.Context) *domain.Calendar { return s.cals.Calendar(ctx) }

// Rules returns the rules in force (for views that show limits).
func (s *Service) Rules() domain.Rules { return s.rules }
