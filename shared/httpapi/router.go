// Package httpapi adapts API Gateway HTTP API (payload 2.0) events to the
// certification service: routing, authentication claims, strict JSON,
// idempotency keys, problem+json errors and response views.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"microcert/shared/certsvc"
	"microcert/shared/clock"
	"microcert/shared/domain"
	"microcert/shared/logging"
)

// Access says who may call a route.
type Access int

const (
	Public    Access = iota // no token (health, provider callbacks)
	AnyUser                 // any authenticated caller; membership and role checked by the service
	Reviewers               // reviewers and admins
	Admins                  // admins only
)

var accessNames = map[Access]string{Public: "public", AnyUser: "any user", Reviewers: "reviewers", Admins: "admins"}

func (a Access) String() string { return accessNames[a] }

// Route is one row of the route table as the rest of the repository sees
// it: the template lint, the OpenAPI test and the end-to-end tests read
// Routes instead of keeping lists of their own.
type Route struct {
	Method string
	Path   string // with {params}, as API Gateway's route key has it
	Access Access
}

// Key is the API Gateway route key, e.g. "POST /v1/cases/{caseId}/submit".
func (r Route) Key() string { return r.Method + " " + r.Path }

// route is a Route with its handler.
type route struct {
	Route
	handle func(ctx context.Context, r *request) (*reply, error)
}

// request is what a handler sees.
type request struct {
	actor     domain.Actor
	params    map[string]string
	query     map[string]string
	headers   map[string]string
	body      []byte
	lang      string
	requestID string
}

// reply is what a handler returns.
type reply struct {
	status  int
	body    any
	headers map[string]string
}

func ok(body any) (*reply, error)      { return &reply{status: http.StatusOK, body: body}, nil }
func created(body any) (*reply, error) { return &reply{status: http.StatusCreated, body: body}, nil }
func noContent() (*reply, error)       { return &reply{status: http.StatusNoContent}, nil }

// API is the HTTP adapter. Build it once at init.
type API struct {
	svc    *certsvc.Service
	idem   IdempotencyStore
	clock  clock.Clock
	log    *slog.Logger
	routes map[string]route
}

// Config wires an API.
type Config struct {
	Service     *certsvc.Service
	Idempotency IdempotencyStore
	Clock       clock.Clock
	Log         *slog.Logger
}

// New builds the API and its route table.
func New(c Config) *API {
	a := &API{svc: c.Service, idem: c.Idempotency, clock: c.Clock, log: c.Log}
	if a.clock == nil {
		a.clock = clock.System{}
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.routes = map[string]route{}
	for _, rt := range a.table() {
		a.routes[rt.Key()] = rt
	}
	return a
}

// Routes lists every route the API serves with who may call it, sorted by
// key. The template must declare exactly these, with the JWT authorizer on
// every route that is not Public (the template lint checks both ways).
func Routes() []Route {
	var out []Route
	for _, rt := range (&API{}).table() {
		out = append(out, rt.Route)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// table is the route table: the one place that says which handler serves
// which route and who may call it.
func (a *API) table() []route {
	return []route{
		{Route{"GET", "/v1/health", Public}, a.health},
		{Route{"POST", "/v1/callbacks/face", Public}, a.faceCallback},
		{Route{"POST", "/v1/callbacks/payment", Public}, a.paymentCallback},
		{Route{"POST", "/v1/callbacks/refund", Public}, a.refundCallback},

		{Route{"GET", "/v1/enterprises", AnyUser}, a.listEnterprises},
		{Route{"POST", "/v1/enterprises", AnyUser}, a.createEnterprise},
		{Route{"GET", "/v1/enterprises/{enterpriseId}", AnyUser}, a.getEnterprise},
		{Route{"PATCH", "/v1/enterprises/{enterpriseId}", AnyUser}, a.patchEnterprise},
		{Route{"GET", "/v1/enterprises/{enterpriseId}/cases", AnyUser}, a.listCases},
		{Route{"GET", "/v1/enterprises/{enterpriseId}/notifications", AnyUser}, a.listNotifications},
		{Route{"GET", "/v1/enterprises/{enterpriseId}/history", AnyUser}, a.listHistory},
		{Route{"POST", "/v1/enterprises/{enterpriseId}/notifications/{notificationId}/read", AnyUser}, a.markNotificationRead},
		{Route{"GET", "/v1/enterprises/{enterpriseId}/notification-settings", AnyUser}, a.getNotificationSettings},
		{Route{"PUT", "/v1/enterprises/{enterpriseId}/notification-settings", AnyUser}, a.putNotificationSettings},
		{Route{"POST", "/v1/enterprises/{enterpriseId}/webhook-endpoints", AnyUser}, a.createWebhookEndpoint},
		{Route{"GET", "/v1/enterprises/{enterpriseId}/webhook-endpoints", AnyUser}, a.listWebhookEndpoints},
		{Route{"PATCH", "/v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}", AnyUser}, a.patchWebhookEndpoint},
		{Route{"DELETE", "/v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}", AnyUser}, a.deleteWebhookEndpoint},
		{Route{"POST", "/v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}/rotate-secret", AnyUser}, a.rotateWebhookSecret},
		{Route{"GET", "/v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}/deliveries", AnyUser}, a.listWebhookDeliveries},
		{Route{"POST", "/v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}/deliveries/{deliveryId}/redeliver", AnyUser}, a.redeliverWebhook},

		{Route{"GET", "/v1/enterprises/{enterpriseId}/members", AnyUser}, a.listMembers},
		{Route{"PATCH", "/v1/enterprises/{enterpriseId}/members/{userId}", AnyUser}, a.changeMemberRole},
		{Route{"DELETE", "/v1/enterprises/{enterpriseId}/members/{userId}", AnyUser}, a.removeMember},
		{Route{"POST", "/v1/enterprises/{enterpriseId}/ownership", AnyUser}, a.transferOwnership},
		{Route{"POST", "/v1/enterprises/{enterpriseId}/invitations", AnyUser}, a.createInvitation},
		{Route{"GET", "/v1/enterprises/{enterpriseId}/invitations", AnyUser}, a.listInvitations},
		{Route{"DELETE", "/v1/enterprises/{enterpriseId}/invitations/{invitationId}", AnyUser}, a.revokeInvitation},
		{Route{"POST", "/v1/invitations/redeem", AnyUser}, a.redeemInvitation},
		{Route{"POST", "/v1/disputes", AnyUser}, a.openDispute},

		{Route{"POST", "/v1/cases", AnyUser}, a.openCase},
		{Route{"GET", "/v1/cases/{caseId}", AnyUser}, a.getCase},
		{Route{"POST", "/v1/cases/{caseId}/documents", AnyUser}, a.requestUpload},
		{Route{"GET", "/v1/cases/{caseId}/documents", AnyUser}, a.listDocuments},
		{Route{"POST", "/v1/cases/{caseId}/face-verification", AnyUser}, a.startFace},
		{Route{"POST", "/v1/cases/{caseId}/qr-verification", AnyUser}, a.startQR},
		{Route{"POST", "/v1/cases/{caseId}/explanation", AnyUser}, a.setExplanation},
		{Route{"POST", "/v1/cases/{caseId}/bank-verification", AnyUser}, a.startDeposit},
		{Route{"POST", "/v1/cases/{caseId}/bank-verification/confirm", AnyUser}, a.confirmDeposit},
		{Route{"POST", "/v1/cases/{caseId}/payment", AnyUser}, a.createPayment},
		{Route{"POST", "/v1/cases/{caseId}/submit", AnyUser}, a.submit},
		{Route{"POST", "/v1/cases/{caseId}/withdraw", AnyUser}, a.withdraw},
		{Route{"GET", "/v1/documents/{documentId}/download", AnyUser}, a.download},
		{Route{"POST", "/v1/enterprises/{enterpriseId}/certifications/{type}/cancel", AnyUser}, a.cancelCertification},

		{Route{"GET", "/v1/review/queue", Reviewers}, a.reviewQueue},
		{Route{"POST", "/v1/cases/{caseId}/claim", Reviewers}, a.claim},
		{Route{"POST", "/v1/cases/{caseId}/decision", Reviewers}, a.decide},
		{Route{"POST", revealPath, Reviewers}, a.reveal},
		{Route{"POST", "/v1/enterprises/{enterpriseId}/certifications/{type}/revoke", Admins}, a.revokeCertification},

		{Route{"GET", "/v1/admin/refunds", Admins}, a.listRefunds},
		{Route{"POST", "/v1/admin/refunds/{refundId}/retry", Admins}, a.retryRefund},
		{Route{"GET", "/v1/admin/discrepancies", Admins}, a.listDiscrepancies},
		{Route{"POST", "/v1/admin/discrepancies/{discrepancyId}/resolve", Admins}, a.resolveDiscrepancy},
		{Route{"GET", "/v1/admin/reports/subsidies", Admins}, a.subsidyReport},
	}
}

// Handle serves one API Gateway event.
func (a *API) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	start := time.Now()
	headers := lowerHeaders(ev.Headers)
	lang := langTag(headers["accept-language"])
	log := logging.ForInvocation(ctx, a.log).With("requestId", ev.RequestContext.RequestID, "route", ev.RouteKey)
	resp := a.serve(ctx, log, ev, headers, lang)
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	resp.Headers["X-Request-Id"] = ev.RequestContext.RequestID
	log.Info("request", "status", resp.StatusCode, "ms", float64(time.Since(start).Microseconds())/1000)
	return resp, nil
}

func (a *API) serve(ctx context.Context, log *slog.Logger, ev events.APIGatewayV2HTTPRequest, headers map[string]string, lang string) events.APIGatewayV2HTTPResponse {
	params := ev.PathParameters
	rt, found := a.routes[ev.RouteKey]
	if !found {
		rt, params, found = a.match(ev.RequestContext.HTTP.Method, ev.RawPath)
	}
	if !found {
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNotFound,
			Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"message":"Not Found"}`}
	}
	actor, err := actorFrom(ev, rt.Access)
	if err != nil {
		return problemResponse(log, err, lang)
	}
	switch {
	case rt.Access == Reviewers && !actor.CanReview(),
		rt.Access == Admins && !actor.Has(domain.RoleAdmin):
		return problemResponse(log, domain.ErrForbidden, lang)
	}
	body, err := rawBody(ev.Body, ev.IsBase64Encoded)
	if err != nil {
		return problemResponse(log, err, lang)
	}
	if len(body) > 0 && !isJSONContentType(headers["content-type"]) {
		return problemResponse(log, errNotJSON, lang)
	}
	if params == nil {
		params = map[string]string{}
	}
	query := ev.QueryStringParameters
	if query == nil {
		query = map[string]string{}
	}
	r := &request{actor: actor, params: params, query: query, headers: headers, body: body, lang: lang,
		requestID: ev.RequestContext.RequestID}
	run := func(ctx context.Context) events.APIGatewayV2HTTPResponse {
		rep, err := rt.handle(ctx, r)
		if err != nil {
			return problemResponse(log, err, lang)
		}
		return render(rep, lang)
	}
	if rt.Method == http.MethodPost && rt.Access != Public && !notReplayed[rt.Key()] && headers["idempotency-key"] != "" {
		return a.idempotent(ctx, log, rt, r, run)
	}
	return run(ctx)
}

// match finds a route by method and path when the event carries no route
// key (e.g. a catch-all integration).
func (a *API) match(method, path string) (route, map[string]string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, rt := range a.routes {
		if rt.Method != method {
			continue
		}
		pat := strings.Split(strings.Trim(rt.Path, "/"), "/")
		if len(pat) != len(segs) {
			continue
		}
		params := map[string]string{}
		okMatch := true
		for i, p := range pat {
			if strings.HasPrefix(p, "{") {
				params[strings.Trim(p, "{}")] = segs[i]
			} else if p != segs[i] {
				okMatch = false
				break
			}
		}
		if okMatch {
			return rt, params, true
		}
	}
	return route{}, nil, false
}

func lowerHeaders(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[strings.ToLower(k)] = v
	}
	return out
}
