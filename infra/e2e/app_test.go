package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"microcert/shared/domain"
	"microcert/shared/httpapi/openapicheck"
)

// app is a mobile app (or a reviewer's console) talking to the local stack
// over HTTP, the way a real client does. Every /v1 response it receives is
// validated against openapi.yaml (the sandbox's against
// openapi-sandbox.yaml), strictly: see openapicheck.
type app struct {
	t     testing.TB
	base  string
	token string
	lang  string
	// user is the token's sub (empty for hand-made clients).
	user string
}

// resp is a response with its body read.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r resp) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (r resp) obj(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

func (r resp) code(t testing.TB) string {
	t.Helper()
	m := map[string]any{}
	_ = json.Unmarshal(r.Body, &m)
	s, _ := m["code"].(string)
	return s
}

var httpClient = &http.Client{Timeout: 60 * time.Second}

// do sends a request; body may be nil, a []byte, a string (raw) or any
// value (JSON-encoded). headers are name/value pairs.
func (a *app) do(method, path string, body any, headers ...string) resp {
	a.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			a.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, a.base+path, bytes.NewReader(raw))
	if err != nil {
		a.t.Fatal(err)
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	if a.lang != "" {
		req.Header.Set("Accept-Language", a.lang)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := httpClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/_sandbox/") {
		openapicheck.ValidateResponse(a.t, method, a.base+path, req.Header, raw, res.StatusCode, res.Header, out)
	}
	return resp{Status: res.StatusCode, Header: res.Header, Body: out}
}

// must sends a request and fails the test unless the status is want.
func (a *app) must(want int, method, path string, body any, headers ...string) resp {
	a.t.Helper()
	r := a.do(method, path, body, headers...)
	if r.Status != want {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

var seed atomic.Int64

func init() { seed.Store(time.Now().UnixNano() % 100000 * 1000) }

// enterpriseBody is a valid profile with a fresh USCC and ID number.
func enterpriseBody(mod func(map[string]any)) map[string]any {
	n := int(seed.Add(1))
	b := map[string]any{
		"name":                "深圳市微认证科技有限公司",
		"uscc":                domain.SampleUSCC(n),
		"legalRep":            map[string]any{"name": "张三", "idNumber": domain.SampleIDNumber(n), "phone": "13812345678"},
		"registeredAddress":   "广东省深圳市南山区科技园路1号",
		"operatingAddress":    "广东省深圳市南山区科技园路1号",
		"regionCode":          "440300",
		"hasCorporateAccount": true,
	}
	if mod != nil {
		mod(b)
	}
	return b
}

func (a *app) createEnterprise(mod func(map[string]any)) map[string]any {
	a.t.Helper()
	return a.must(201, "POST", "/v1/enterprises", enterpriseBody(mod)).obj(a.t)
}

func (a *app) openCase(enterpriseID string, kind string, types ...string) map[string]any {
	a.t.Helper()
	return a.must(201, "POST", "/v1/cases", map[string]any{"enterpriseId": enterpriseID, "kind": kind, "types": types}).obj(a.t)
}

func (a *app) getCase(caseID string) map[string]any {
	a.t.Helper()
	return a.must(200, "GET", "/v1/cases/"+caseID, nil).obj(a.t)
}

// requestUpload asks for a presigned POST.
func (a *app) requestUpload(caseID, docType, contentType string, size int) map[string]any {
	a.t.Helper()
	return a.must(201, "POST", "/v1/cases/"+caseID+"/documents",
		map[string]any{"docType": docType, "contentType": contentType, "contentLength": size}).obj(a.t)
}

// postFile sends content to S3 with the presigned POST form, as an app does.
func postFile(t testing.TB, up map[string]any, content []byte) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fields, _ := up["fields"].(map[string]any)
	for k, v := range fields {
		if err := w.WriteField(k, fmt.Sprint(v)); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := w.CreateFormFile("file", "upload.bin")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	w.Close()
	req, _ := http.NewRequest("POST", up["url"].(string), &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("presigned POST: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// upload requests a presigned POST, sends the file and waits for the
// document check's result; it returns the document as the API shows it.
func (a *app) upload(caseID, docType, contentType string, content []byte) map[string]any {
	a.t.Helper()
	up := a.requestUpload(caseID, docType, contentType, len(content))
	if st, body := postFile(a.t, up, content); st/100 != 2 {
		a.t.Fatalf("presigned POST of %s: %d %s", docType, st, body)
	}
	return a.waitChecked(caseID, up["documentId"].(string))
}

// waitChecked polls the case's documents until the check has a result.
func (a *app) waitChecked(caseID, docID string) map[string]any {
	a.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var page struct {
			Items []map[string]any `json:"items"`
		}
		a.must(200, "GET", "/v1/cases/"+caseID+"/documents", nil).decode(a.t, &page)
		for _, d := range page.Items {
			if d["id"] == docID {
				if st := d["check"].(map[string]any)["status"]; st != "pending" {
					return d
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	a.t.Fatalf("document %s was not checked within 60s", docID)
	return nil
}

// passFace starts a face session and has the sandbox provider pass it.
func (a *app) passFace(caseID string, phoneMatches bool) map[string]any {
	a.t.Helper()
	s := a.must(201, "POST", "/v1/cases/"+caseID+"/face-verification", nil).obj(a.t)
	result := "pass"
	a.must(200, "POST", "/_sandbox/face", map[string]any{"sessionId": s["sessionId"], "result": result, "phoneMatchesRegistration": phoneMatches})
	return s
}

// depositAmount reads what the sandbox bank paid into the account.
func (a *app) depositAmount(caseID string) int64 {
	a.t.Helper()
	var out struct {
		Items []struct {
			AmountFen int64 `json:"amountFen"`
		} `json:"items"`
	}
	a.must(200, "GET", "/_sandbox/deposits?caseId="+caseID, nil).decode(a.t, &out)
	if len(out.Items) == 0 {
		a.t.Fatalf("no deposit paid for case %s", caseID)
	}
	return out.Items[len(out.Items)-1].AmountFen
}

// verifyBank sends the micro-deposit and confirms the right amount.
func (a *app) verifyBank(caseID string) {
	a.t.Helper()
	a.must(201, "POST", "/v1/cases/"+caseID+"/bank-verification",
		map[string]any{"bankName": "招商银行深圳分行", "accountName": "深圳市微认证科技有限公司", "accountNumber": "755912345678901"})
	a.must(200, "POST", "/v1/cases/"+caseID+"/bank-verification/confirm", map[string]any{"amountFen": a.depositAmount(caseID)})
}

// pay creates the fee order and has the sandbox provider pay it.
func (a *app) pay(caseID string) map[string]any {
	a.t.Helper()
	order := a.must(201, "POST", "/v1/cases/"+caseID+"/payment", nil).obj(a.t)
	a.must(200, "POST", "/_sandbox/payments", map[string]any{"orderId": order["orderId"]})
	return order
}
