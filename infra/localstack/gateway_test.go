package localstack

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"microcert/infra/localstack/s3hook"
	"microcert/infra/template"
	"microcert/shared/webhook"
)

func testGateway(t *testing.T) *gateway {
	t.Helper()
	tpl, err := template.LoadRepo(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	return newGateway(tpl, nil, nil, nil)
}

func TestGatewayMatch(t *testing.T) {
	g := testGateway(t)
	tests := []struct {
		method, path string
		want         string
		params       map[string]string
	}{
		{"GET", "/v1/health", "GET /v1/health", map[string]string{}},
		{"GET", "/v1/cases/abc", "GET /v1/cases/{caseId}", map[string]string{"caseId": "abc"}},
		{"POST", "/v1/cases/abc/bank-verification/confirm", "POST /v1/cases/{caseId}/bank-verification/confirm", map[string]string{"caseId": "abc"}},
		{"POST", "/v1/enterprises/e1/certifications/wecom/cancel", "POST /v1/enterprises/{enterpriseId}/certifications/{type}/cancel", map[string]string{"enterpriseId": "e1", "type": "wecom"}},
		{"GET", "/v1/cases/a%20b", "GET /v1/cases/{caseId}", map[string]string{"caseId": "a b"}},
		{"POST", "/v1/cases", "POST /v1/cases", map[string]string{}},
		{"DELETE", "/v1/cases/abc", "", nil},
		{"GET", "/v1/cases/", "", nil},
		{"GET", "/v1/cases/abc/extra/more", "", nil},
		{"POST", "/_sandbox/face", "", nil},
	}
	for _, tt := range tests {
		rt, params, ok := g.match(tt.method, tt.path)
		got := ""
		if ok {
			got = rt.route.Key()
		}
		if got != tt.want {
			t.Errorf("%s %s matched %q, want %q", tt.method, tt.path, got, tt.want)
			continue
		}
		if ok {
			if d := cmp.Diff(tt.params, params); d != "" {
				t.Errorf("%s %s params (-want +got):\n%s", tt.method, tt.path, d)
			}
		}
	}
}

func TestIssuerVerify(t *testing.T) {
	iss, err := OpenIssuer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	good, _ := iss.Token("reviewer", "u-1", WithGroups("reviewer", "admin"), WithClaim("cognito:groups", []string{"reviewer", "admin"}))
	claims, _, err := iss.Verify(good)
	if err != nil {
		t.Fatal(err)
	}
	if claims["groups"] != "[reviewer admin]" || claims["cognito:groups"] != "[reviewer admin]" || claims["sub"] != "u-1" {
		t.Errorf("claims %v", claims)
	}
	if claims["exp"] == "" || strings.ContainsAny(claims["exp"], "e.") {
		t.Errorf("exp %q is not an integer string", claims["exp"])
	}

	other, _ := OpenIssuer(t.TempDir())
	foreign, _ := other.Token("admin", "u-2")
	expired, _ := iss.Token("applicant", "u-1", WithTTL(-time.Minute))
	noExp, _ := iss.Token("applicant", "u-1", WithClaim("exp", nil))
	future, _ := iss.Token("applicant", "u-1", WithClaim("nbf", time.Now().Add(time.Hour).Unix()))
	wrongAud, _ := iss.Token("applicant", "u-1", WithClaim("aud", "someone-else"))
	wrongIss, _ := iss.Token("applicant", "u-1", WithClaim("iss", "https://evil.example"))
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": Issuer, "aud": Audience, "sub": "x", "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte("k"))
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": Issuer, "aud": Audience, "sub": "x", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"u-1"`, `"u-9"`, 1))) + "." + parts[2]
	for name, tok := range map[string]string{
		"other key": foreign, "expired": expired, "no exp": noExp, "not yet valid": future,
		"wrong aud": wrongAud, "wrong iss": wrongIss, "HS256": hs, "alg none": none, "tampered": tampered,
		"empty": "", "garbage": "a.b.c",
	} {
		if _, _, err := iss.Verify(tok); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestIssuerKeyPersists(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenIssuer(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenIssuer(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := a.Token("admin", "u")
	if _, _, err := b.Verify(tok); err != nil {
		t.Fatalf("a token of the first open fails the second: %v", err)
	}
}

func TestBuildEvent(t *testing.T) {
	req := httptest.NewRequest("POST", "http://127.0.0.1:3000/v1/cases/c1/documents?x=1&x=2&y=%E4%B8%AD", strings.NewReader("\x89PNG"))
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("Cookie", "a=1; b=2")
	req.Header.Add("X-Multi", "p")
	req.Header.Add("X-Multi", "q")
	rt := template.Route{Method: "POST", Path: "/v1/cases/{caseId}/documents"}
	ev := buildEvent(req, rt, "/v1/cases/c1/documents", map[string]string{"caseId": "c1"}, []byte("\x89PNG"), nil)
	if ev.RouteKey != "POST /v1/cases/{caseId}/documents" || ev.RawQueryString != "x=1&x=2&y=%E4%B8%AD" {
		t.Errorf("routeKey %q rawQuery %q", ev.RouteKey, ev.RawQueryString)
	}
	if d := cmp.Diff(map[string]string{"x": "1,2", "y": "中"}, ev.QueryStringParameters); d != "" {
		t.Errorf("query (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"a=1", "b=2"}, ev.Cookies); d != "" {
		t.Errorf("cookies (-want +got):\n%s", d)
	}
	if _, ok := ev.Headers["cookie"]; ok || ev.Headers["x-multi"] != "p,q" || ev.Headers["content-type"] != "image/png" {
		t.Errorf("headers %v", ev.Headers)
	}
	if !ev.IsBase64Encoded || ev.Body != base64.StdEncoding.EncodeToString([]byte("\x89PNG")) {
		t.Errorf("binary body: %v %q", ev.IsBase64Encoded, ev.Body)
	}
	b, _ := marshalEvent(ev)
	if strings.Contains(string(b), "authentication") || strings.Contains(string(b), `"authorizer"`) {
		t.Errorf("event carries fields API Gateway would not send: %s", b)
	}
	for ct, want := range map[string]bool{
		"application/json": true, "application/json; charset=utf-8": true, "text/plain": true,
		"application/problem+json": true, "": true, "image/jpeg": false, "application/octet-stream": false,
		"multipart/form-data; boundary=x": false,
	} {
		if isText(ct) != want {
			t.Errorf("isText(%q) = %v", ct, !want)
		}
	}
}

func TestWriteResponse(t *testing.T) {
	tests := []struct {
		name   string
		out    string
		status int
		body   string
		header map[string][]string
	}{
		{"structured", `{"statusCode":201,"headers":{"Content-Type":"application/problem+json"},"body":"{\"a\":1}","cookies":["s=1","t=2"]}`,
			201, `{"a":1}`, map[string][]string{"Content-Type": {"application/problem+json"}, "Set-Cookie": {"s=1", "t=2"}}},
		{"base64", `{"statusCode":200,"headers":{"content-type":"image/png"},"body":"iVBORw==","isBase64Encoded":true}`,
			200, "\x89PNG", map[string][]string{"Content-Type": {"image/png"}}},
		{"inferred", `{"status":"ok"}`, 200, `{"status":"ok"}`, map[string][]string{"Content-Type": {"application/json"}}},
		{"bare string", `"hello"`, 200, `"hello"`, nil},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		if err := writeResponse(rec, []byte(tt.out)); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if rec.Code != tt.status || rec.Body.String() != tt.body {
			t.Errorf("%s: %d %q", tt.name, rec.Code, rec.Body.String())
		}
		for k, want := range tt.header {
			if d := cmp.Diff(want, rec.Header().Values(k)); d != "" {
				t.Errorf("%s: header %s (-want +got):\n%s", tt.name, k, d)
			}
		}
	}
	if err := writeResponse(httptest.NewRecorder(), []byte(`{"statusCode":1000}`)); err == nil {
		t.Error("statusCode 1000 accepted")
	}
}

func TestSign(t *testing.T) {
	at := time.Unix(1700000000, 0)
	got := webhook.Sign("local-face-secret", at, []byte(`{"a":1}`))
	// HMAC-SHA256("local-face-secret", `1700000000.{"a":1}`), computed with Python's hmac.
	want := "t=1700000000,v1=869a37416851c78387770bd80a54068fb890166685af9353b0258fbb59f1f4ec"
	if got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

func TestNotificationMatches(t *testing.T) {
	n := notification{function: "F", ev: template.S3Event{Bucket: "b", Events: []string{"s3:ObjectCreated:*"}, Prefix: "uploads/"}}
	rec := func(bucket, name string) s3hook.Record {
		r := s3hook.Record{EventName: name}
		r.S3.Bucket.Name = bucket
		return r
	}
	tests := []struct {
		bucket, name, key string
		want              bool
	}{
		{"b", "ObjectCreated:Put", "uploads/c/d", true},
		{"b", "ObjectCreated:Post", "uploads/c/d", true},
		{"b", "ObjectCreated:CompleteMultipartUpload", "uploads/c/d", true},
		{"b", "ObjectRemoved:Delete", "uploads/c/d", false},
		{"b", "ObjectCreated:Put", "other/c/d", false},
		{"other", "ObjectCreated:Put", "uploads/c/d", false},
	}
	for _, tt := range tests {
		if got := n.matches(rec(tt.bucket, tt.name), tt.key); got != tt.want {
			t.Errorf("%s %s %s: %v", tt.bucket, tt.name, tt.key, got)
		}
	}
}

func TestLocalVars(t *testing.T) {
	tpl, err := template.LoadRepo(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	api, _ := tpl.Function("ApiFunction")
	v := LocalVars(api, "http://d", "http://s", "", map[string]string{"LOG_LEVEL": "DEBUG"})
	for k, want := range map[string]string{
		"FACE_WEBHOOK_SECRET": LocalFaceSecret, "PAYMENT_WEBHOOK_SECRET": LocalPaymentSecret, "DEPOSIT_HMAC_KEY": LocalDepositKey,
		"AWS_ENDPOINT_URL_DYNAMODB": "http://d", "AWS_ENDPOINT_URL_S3": "http://s",
		"S3_USE_PATH_STYLE": "true", "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
		"TABLE_NAME": "microcert-local", "LOG_LEVEL": "DEBUG",
	} {
		if v[k] != want {
			t.Errorf("%s = %q, want %q", k, v[k], want)
		}
	}
	for k := range v {
		if strings.HasSuffix(k, "_PARAM") {
			t.Errorf("%s reaches the function locally: shared/config would call SSM", k)
		}
	}
	if _, ok := v["FACE_WEBHOOK_SECRET_PREVIOUS"]; ok {
		t.Error("a previous key is set without a rotation")
	}
	env := lambdaEnv(api, v, "/usr/bin")
	joined := strings.Join(env, "\n")
	for _, want := range []string{"AWS_LAMBDA_FUNCTION_NAME=ApiFunction", "AWS_LAMBDA_FUNCTION_TIMEOUT=10", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "_HANDLER=bootstrap", "PATH=/usr/bin"} {
		if !strings.Contains(joined, want) {
			t.Errorf("lambda env lacks %s", want)
		}
	}
}

func TestSandboxNeedsData(t *testing.T) {
	s := &sandbox{}
	for _, r := range []*http.Request{
		httptest.NewRequest("POST", "/_sandbox/payments", strings.NewReader(`{"orderId":"o1"}`)),
		httptest.NewRequest("GET", "/_sandbox/deposits?caseId=c1", nil),
	} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, r)
		if rec.Code != http.StatusNotImplemented {
			t.Errorf("%s %s without data: %d", r.Method, r.URL, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/_sandbox/face", strings.NewReader(`{"sessionId":"s","result":"maybe"}`)))
	if rec.Code != http.StatusBadRequest {
		t.Errorf("bad face result: %d", rec.Code)
	}
	var body map[string]string
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if body["error"] == "" {
		t.Errorf("no error message: %s", rec.Body)
	}
}
