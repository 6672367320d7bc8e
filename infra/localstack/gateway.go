package localstack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"microcert/infra/template"
)

// MaxPayload is API Gateway's HTTP API payload limit.
const MaxPayload = 10 << 20

// integrationTimeout is API Gateway's HTTP API limit for a Lambda integration.
const integrationTimeout = 30 * time.Second

// gateway emulates the API Gateway HTTP API of the template: it routes by the
// template's HttpApi events, checks JWTs like the JWT authorizer, builds
// payload v2.0 events for ApiFunction and maps its answers back.
type gateway struct {
	routes  []gwRoute
	fn      func(id string) *function
	issuer  *LocalIssuer
	sandbox http.Handler
	logger  *slog.Logger
}

type gwRoute struct {
	function string
	route    template.Route
	segs     []string
}

func newGateway(t *template.Template, fn func(string) *function, issuer *LocalIssuer, logger *slog.Logger) *gateway {
	g := &gateway{fn: fn, issuer: issuer, logger: logger}
	for _, f := range t.Functions {
		for _, r := range f.Routes {
			g.routes = append(g.routes, gwRoute{function: f.LogicalID, route: r, segs: strings.Split(strings.Trim(r.Path, "/"), "/")})
		}
	}
	return g
}

// match finds the route for method and path. Like API Gateway it prefers the
// most specific route: literal segments over {params}, {params} over {proxy+}.
func (g *gateway) match(method, rawPath string) (*gwRoute, map[string]string, bool) {
	segs := strings.Split(strings.Trim(rawPath, "/"), "/")
	var (
		best       *gwRoute
		bestParams map[string]string
		bestScore  = -1
	)
	for i := range g.routes {
		r := &g.routes[i]
		if r.route.Method != method && r.route.Method != "ANY" {
			continue
		}
		params, score, ok := matchSegs(r.segs, segs)
		if ok && score > bestScore {
			best, bestParams, bestScore = r, params, score
		}
	}
	return best, bestParams, best != nil
}

func matchSegs(pattern, segs []string) (map[string]string, int, bool) {
	params := map[string]string{}
	score := 0
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}") {
			if i >= len(segs) {
				return nil, 0, false
			}
			rest, err := url.PathUnescape(strings.Join(segs[i:], "/"))
			if err != nil {
				return nil, 0, false
			}
			params[p[1:len(p)-2]] = rest
			return params, score, true
		}
		if i >= len(segs) {
			return nil, 0, false
		}
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if segs[i] == "" {
				return nil, 0, false
			}
			v, err := url.PathUnescape(segs[i])
			if err != nil {
				return nil, 0, false
			}
			params[p[1:len(p)-1]] = v
			score++
			continue
		}
		if p != segs[i] {
			return nil, 0, false
		}
		score += 2
	}
	if len(pattern) != len(segs) {
		return nil, 0, false
	}
	return params, score, true
}

func writeGatewayError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Apigw-Requestid", newRequestID())
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"message":"`+msg+`"}`)
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sandbox/") && g.sandbox != nil {
		g.sandbox.ServeHTTP(w, r)
		return
	}
	rawPath := r.URL.EscapedPath()
	rt, params, ok := g.match(r.Method, rawPath)
	if !ok {
		writeGatewayError(w, http.StatusNotFound, "Not Found")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		writeGatewayError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > MaxPayload {
		writeGatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	var authz *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
	if !rt.route.Public {
		claims, scopes, err := g.issuer.Verify(bearer(r.Header.Get("Authorization")))
		if err != nil {
			writeGatewayError(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		authz = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: scopes},
		}
	}
	ev := buildEvent(r, rt.route, rawPath, params, body, authz)
	payload, err := marshalEvent(ev)
	if err != nil {
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), integrationTimeout)
	defer cancel()
	out, err := g.fn(rt.function).invoke(ctx, ev.RequestContext.RequestID, payload)
	if err != nil {
		g.logger.Error("integration failed", "route", rt.route.Key(), "requestId", ev.RequestContext.RequestID, "err", err)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			writeGatewayError(w, http.StatusServiceUnavailable, "Service Unavailable")
			return
		}
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	w.Header().Set("Apigw-Requestid", ev.RequestContext.RequestID)
	if err := writeResponse(w, out); err != nil {
		g.logger.Error("malformed integration response", "route", rt.route.Key(), "err", err)
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

// bearer takes the token from an Authorization header; API Gateway accepts it
// with or without the "Bearer " prefix.
func bearer(h string) string {
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return strings.TrimSpace(h)
}

// buildEvent makes the API Gateway HTTP API payload v2.0 event.
func buildEvent(r *http.Request, rt template.Route, rawPath string, params map[string]string, body []byte, authz *events.APIGatewayV2HTTPRequestContextAuthorizerDescription) events.APIGatewayV2HTTPRequest {
	now := time.Now().UTC()
	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			// v2.0 moves cookies out of the headers into their own list.
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lk] = strings.Join(vs, ",")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	if r.ContentLength > 0 {
		headers["content-length"] = strconv.Itoa(len(body))
	}
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = map[string]string{}
		for k, vs := range q {
			query[k] = strings.Join(vs, ",")
		}
	}
	if len(params) == 0 {
		params = nil
	}
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              rt.Key(),
		RawPath:               rawPath,
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     rt.Key(),
			AccountID:    AccountID,
			Stage:        "$default",
			RequestID:    newRequestID(),
			Authorizer:   authz,
			APIID:        "local",
			DomainName:   host,
			DomainPrefix: strings.Split(host, ".")[0],
			Time:         now.Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      rawPath,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// marshalEvent encodes the event as API Gateway sends it. aws-lambda-go's type
// always writes requestContext.authentication (an empty client certificate),
// which API Gateway sends only for mutual TLS: drop it.
func marshalEvent(ev events.APIGatewayV2HTTPRequest) ([]byte, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	var rc map[string]json.RawMessage
	if err := json.Unmarshal(m["requestContext"], &rc); err != nil {
		return nil, err
	}
	delete(rc, "authentication")
	if m["requestContext"], err = json.Marshal(rc); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// isText says whether API Gateway passes a body as text rather than base64.
func isText(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript", mt == "application/x-www-form-urlencoded":
		return true
	}
	return false
}

// writeResponse maps a payload v2.0 response back to HTTP. A function that
// answers anything but an object with statusCode gets API Gateway's inferred
// format: 200, application/json, the answer as the body.
func writeResponse(w http.ResponseWriter, out []byte) error {
	var probe map[string]json.RawMessage
	if json.Unmarshal(out, &probe) != nil || probe["statusCode"] == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, err := w.Write(out)
		return err
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return err
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return errors.New("statusCode out of range")
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return err
		}
		body = b
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" && len(body) > 0 {
		h.Set("Content-Type", "application/json")
	}
	w.WriteHeader(resp.StatusCode)
	_, err := w.Write(body)
	return err
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
