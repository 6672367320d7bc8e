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

// access says who may call a route.
type access int

const (
	public     access = iota // no token (health, provider callbacks)
	anyUser                  // any authenticated caller; membership and role checked by the service
	reviewers                // reviewers and admins
	adminsOnly               // admins
)

// route is one row of the route table.
type route struct {
	method string
	path   string
	access access
	handle func(ctx context.Context, r *request) (*reply, error)
}

func (rt route) key() string { return rt.method + " " + rt.path }

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
		a.routes[rt.key()] = rt
	}
	return a
}

// RouteKeys lists "METHOD /path" of every route the API serves; the
// template must declare exactly these (a test checks both ways).
func RouteKeys() []string {
	var keys []string
	for _, rt := range (&API{}).table() {
		keys = append(keys, rt.key())
	}
	sort.Strings(keys)
	return keys
}

// table is the route table: the one place that says which handler serves
// which route and who may call it.
func (a *API) table() []route {
	return []route{
		{"GET", "/v1/health", public, a.health},
		{"POST", "/v1/callbacks/face", public, a.faceCallback},
		{"POST", "/v1/callbacks/payment", public, a.paymentCallback},

		{"GET", "/v1/enterprises", anyUser, a.listEnterprises},
		{"POST", "/v1/enterprises", anyUser, a.createEnterprise},
		{"GET", "/v1/enterprises/{enterpriseId}", anyUser, a.getEnterprise},
		{"PATCH", "/v1/enterprises/{enterpriseId}", anyUser, a.patchEnterprise},
		{"GET", "/v1/enterprises/{enterpriseId}/cases", anyUser, a.listCases},
		{"GET", "/v1/enterprises/{enterpriseId}/notifications", anyUser, a.listNotifications},
		{"GET", "/v1/enterprises/{enterpriseId}/history", anyUser, a.listHistory},

		{"GET", "/v1/enterprises/{enterpriseId}/members", anyUser, a.listMembers},
		{"PATCH", "/v1/enterprises/{enterpriseId}/members/{userId}", anyUser, a.changeMemberRole},
		{"DELETE", "/v1/enterprises/{enterpriseId}/members/{userId}", anyUser, a.removeMember},
		{"POST", "/v1/enterprises/{enterpriseId}/ownership", anyUser, a.transferOwnership},
		{"POST", "/v1/enterprises/{enterpriseId}/invitations", anyUser, a.createInvitation},
		{"GET", "/v1/enterprises/{enterpriseId}/invitations", anyUser, a.listInvitations},
		{"DELETE", "/v1/enterprises/{enterpriseId}/invitations/{invitationId}", anyUser, a.revokeInvitation},
		{"POST", "/v1/invitations/redeem", anyUser, a.redeemInvitation},
		{"POST", "/v1/disputes", anyUser, a.openDispute},

		{"POST", "/v1/cases", anyUser, a.openCase},
		{"GET", "/v1/cases/{caseId}", anyUser, a.getCase},
		{"POST", "/v1/cases/{caseId}/documents", anyUser, a.requestUpload},
		{"GET", "/v1/cases/{caseId}/documents", anyUser, a.listDocuments},
		{"POST", "/v1/cases/{caseId}/face-verification", anyUser, a.startFace},
		{"POST", "/v1/cases/{caseId}/qr-verification", anyUser, a.startQR},
		{"POST", "/v1/cases/{caseId}/explanation", anyUser, a.setExplanation},
		{"POST", "/v1/cases/{caseId}/bank-verification", anyUser, a.startDeposit},
		{"POST", "/v1/cases/{caseId}/bank-verification/confirm", anyUser, a.confirmDeposit},
		{"POST", "/v1/cases/{caseId}/payment", anyUser, a.createPayment},
		{"POST", "/v1/cases/{caseId}/submit", anyUser, a.submit},
		{"POST", "/v1/cases/{caseId}/withdraw", anyUser, a.withdraw},
		{"GET", "/v1/documents/{documentId}/download", anyUser, a.download},
		{"POST", "/v1/enterprises/{enterpriseId}/certifications/{type}/cancel", anyUser, a.cancelCertification},

		{"GET", "/v1/review/queue", reviewers, a.reviewQueue},
		{"POST", "/v1/cases/{caseId}/claim", reviewers, a.claim},
		{"POST", "/v1/cases/{caseId}/decision", reviewers, a.decide},
		{"POST", "/v1/enterprises/{enterpriseId}/certifications/{type}/revoke", adminsOnly, a.revokeCertification},
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
	actor, err := actorFrom(ev, rt.access)
	if err != nil {
		return problemResponse(log, err, lang)
	}
	switch {
	case rt.access == reviewers && !actor.CanReview(),
		rt.access == adminsOnly && !actor.Has(domain.RoleAdmin):
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
	if rt.method == http.MethodPost && rt.access != public && headers["idempotency-key"] != "" {
		return a.idempotent(ctx, log, rt, r, run)
	}
	return run(ctx)
}

// match finds a route by method and path when the event carries no route
// key (e.g. a catch-all integration).
func (a *API) match(method, path string) (route, map[string]string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, rt := range a.routes {
		if rt.method != method {
			continue
		}
		pat := strings.Split(strings.Trim(rt.path, "/"), "/")
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
