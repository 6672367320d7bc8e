package localstack

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"microcert/infra/localstack/s3hook"
	"microcert/infra/template"
	"microcert/shared/domain"
	"microcert/shared/refundevent"
	"microcert/shared/webhook"
)

var update = flag.Bool("update", false, "rewrite the sample events in events/")

const repoRoot = "../.."

// Fixed ids so that the samples read alike (ULID-shaped like domain.NewID).
const (
	sampleEnterprise = "01kb2m3n4p5q6r7s8t9v0w1x2y"
	sampleCase       = "01kb2m3n4p5q6r7s8t9v0w1x3z"
	sampleDocument   = "01kb2m3n4p5q6r7s8t9v0w1x4a"
	sampleRefund     = "01kb2m3n4p5q6r7s8t9v0w1x6c"
)

// refundHandoffFile is the sample of the API's hand-off of a refund to
// RefundFunction (an async invoke, not a template trigger).
const refundHandoffFile = "refund-handoff.json"

type apiSample struct {
	file   string
	method string
	path   string
	role   string // "" = no token
	body   string
	header map[string]string
}

var apiSamples = []apiSample{
	{file: "api-health.json", method: "GET", path: "/v1/health"},
	{file: "api-create-enterprise.json", method: "POST", path: "/v1/enterprises", role: "applicant",
		body: `{"name":"深圳市小微科技有限公司","uscc":"` + domain.SampleUSCC(7) + `","legalRep":{"name":"张三","idNumber":"` + domain.SampleIDNumber(7) +
			`","phone":"13800138000"},"registeredAddress":"深圳市南山区科技园1号","operatingAddress":"深圳市南山区科技园1号","regionCode":"440305","hasCorporateAccount":true}`,
		header: map[string]string{"Idempotency-Key": "sample-create-enterprise-1"}},
	{file: "api-request-upload.json", method: "POST", path: "/v1/cases/" + sampleCase + "/documents", role: "applicant",
		body: `{"docType":"business_license","contentType":"image/jpeg","contentLength":245760}`},
	{file: "api-submit-case.json", method: "POST", path: "/v1/cases/" + sampleCase + "/submit", role: "applicant", body: `{}`},
	{file: "api-review-queue.json", method: "GET", path: "/v1/review/queue?limit=20", role: "reviewer"},
	{file: "api-face-callback.json", method: "POST", path: "/v1/callbacks/face",
		body:   `{"sessionId":"01kb2m3n4p5q6r7s8t9v0w1x5b","result":"pass","phoneMatchesRegistration":true,"livenessScore":0.98}`,
		header: map[string]string{webhook.Header: "SIGN"}},
}

var sampleTime = time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)

// sampleClaims are the claims the local authorizer would pass for a token of role.
func sampleClaims(role string) map[string]string {
	return map[string]string{
		"iss": Issuer, "aud": Audience, "sub": "user-1", "token_use": "id",
		"iat": "1795654800", "nbf": "1795654740", "exp": "1795658400",
		"groups": "[" + role + "]",
	}
}

func writeSamples(t *testing.T, tpl *template.Template) {
	for _, s := range apiSamples {
		req := httptest.NewRequest(s.method, "http://127.0.0.1:3000"+s.path, strings.NewReader(s.body))
		req.RemoteAddr = "127.0.0.1:51234"
		req.Header.Set("User-Agent", "microcert-app/1.0")
		if s.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if s.role != "" {
			req.Header.Set("Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.sample.signature")
		}
		for k, v := range s.header {
			if v == "SIGN" {
				v = webhook.Sign(LocalFaceSecret, sampleTime, []byte(s.body))
			}
			req.Header.Set(k, v)
		}
		g := &gateway{}
		for _, f := range tpl.Functions {
			for _, r := range f.Routes {
				g.routes = append(g.routes, gwRoute{function: f.LogicalID, route: r, segs: strings.Split(strings.Trim(r.Path, "/"), "/")})
			}
		}
		rt, params, ok := g.match(s.method, req.URL.EscapedPath())
		if !ok {
			t.Fatalf("%s: no route for %s %s", s.file, s.method, s.path)
		}
		var authz *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
		if s.role != "" {
			authz = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: sampleClaims(s.role)},
			}
		}
		ev := buildEvent(req, rt.route, req.URL.EscapedPath(), params, []byte(s.body), authz)
		ev.RequestContext.RequestID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
		ev.RequestContext.Time = sampleTime.Format("02/Jan/2006:15:04:05 -0700")
		ev.RequestContext.TimeEpoch = sampleTime.UnixMilli()
		b, err := marshalEvent(ev)
		if err != nil {
			t.Fatal(err)
		}
		writeJSON(t, s.file, json.RawMessage(b))
	}

	rec := s3hook.Record{
		EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: Region,
		EventTime: sampleTime.Format("2006-01-02T15:04:05.000Z"), EventName: "ObjectCreated:Post",
		UserIdentity:      s3hook.Identity{PrincipalID: "AWS:AROAEXAMPLEROLEID:ApiFunction"},
		RequestParameters: s3hook.RequestParameters{SourceIPAddress: "203.0.113.10"},
		ResponseElements:  map[string]string{"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
		S3: s3hook.Entity{
			SchemaVersion: "1.0", ConfigurationID: "DocCheckFunctionUpload",
			Bucket: s3hook.Bucket{Name: tpl.Bucket.Name, OwnerIdentity: s3hook.Identity{PrincipalID: "A3NL1KOZZKExample"}, ARN: "arn:aws:s3:::" + tpl.Bucket.Name},
			Object: s3hook.Object{Size: 245760, ETag: "d41d8cd98f00b204e9800998ecf8427e", Sequencer: "0055AED6DCD90281E5"},
		},
	}
	rec.SetKey("uploads/" + sampleCase + "/" + sampleDocument)
	writeJSON(t, "s3-upload.json", s3hook.Event{Records: []s3hook.Record{rec}})

	for _, f := range tpl.Functions {
		for _, sc := range f.Schedules {
			var ev events.CloudWatchEvent
			_ = json.Unmarshal(ScheduledEvent(f.LogicalID, sc.Name, sampleTime), &ev)
			ev.ID = "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa"
			writeJSON(t, scheduleFile(f.LogicalID), ev)
		}
	}
	writeJSON(t, refundHandoffFile, refundevent.Event{CaseID: sampleCase, RefundID: sampleRefund, Round: 1})
}

func scheduleFile(logicalID string) string {
	return "schedule-" + strings.ToLower(strings.TrimSuffix(logicalID, "Function")) + ".json"
}

func writeJSON(t *testing.T, name string, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repoRoot, "events", name), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSampleEvents: events/ has a sample for every trigger of the template
// (and RefundFunction's hand-off event),
// each in the exact form AWS delivers (aws-lambda-go parses it) and consistent
// with the template. Regenerate with `go test ./infra/localstack -run TestSampleEvents -update`.
func TestSampleEvents(t *testing.T) {
	tpl, err := template.LoadRepo(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		writeSamples(t, tpl)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(repoRoot, "events", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	strict := func(name string, v any) {
		dec := json.NewDecoder(bytes.NewReader(read(name)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}

	routes := tpl.Routes()
	for _, s := range apiSamples {
		var ev events.APIGatewayV2HTTPRequest
		strict(s.file, &ev)
		r, ok := routes[ev.RouteKey]
		if !ok {
			t.Errorf("%s: routeKey %q is not in the template", s.file, ev.RouteKey)
			continue
		}
		if ev.Version != "2.0" || ev.RequestContext.Stage != "$default" || ev.RequestContext.RequestID == "" {
			t.Errorf("%s: not a payload v2.0 event", s.file)
		}
		if (ev.RequestContext.Authorizer != nil) == r.Public {
			t.Errorf("%s: authorizer %v on a route with Public=%v", s.file, ev.RequestContext.Authorizer, r.Public)
		}
	}

	var s3ev events.S3Event
	strict("s3-upload.json", &s3ev)
	dc, _ := tpl.Function("DocCheckFunction")
	rec := s3ev.Records[0]
	if rec.EventName != "ObjectCreated:Post" || rec.S3.Bucket.Name != tpl.Bucket.Name || rec.S3.Bucket.Arn != "arn:aws:s3:::"+tpl.Bucket.Name {
		t.Errorf("s3-upload.json: %s on %s (%s)", rec.EventName, rec.S3.Bucket.Name, rec.S3.Bucket.Arn)
	}
	if !regexp.MustCompile(`^uploads/[0-9a-z]{26}/[0-9a-z]{26}$`).MatchString(rec.S3.Object.URLDecodedKey) ||
		!strings.HasPrefix(rec.S3.Object.URLDecodedKey, dc.S3Events[0].Prefix) {
		t.Errorf("s3-upload.json: key %q is not uploads/{caseId}/{documentId}", rec.S3.Object.URLDecodedKey)
	}

	for _, f := range tpl.Functions {
		if len(f.Schedules) == 0 {
			continue
		}
		var ev events.CloudWatchEvent
		strict(scheduleFile(f.LogicalID), &ev)
		if ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" || len(ev.Resources) != 1 {
			t.Errorf("%s: %+v", scheduleFile(f.LogicalID), ev)
		}
		if _, isRefund, _ := refundevent.Parse(read(scheduleFile(f.LogicalID))); isRefund {
			t.Errorf("%s: taken for a refund hand-off", scheduleFile(f.LogicalID))
		}
	}
	if _, isRefund, err := refundevent.Parse(read(refundHandoffFile)); !isRefund || err != nil {
		t.Errorf("%s: not a refund hand-off: %v", refundHandoffFile, err)
	}
}
