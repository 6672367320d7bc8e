package apitest

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"microcert/shared/blob"
	fx "microcert/shared/doccheck/doccheckfixtures"
	"microcert/shared/domain"
	"microcert/shared/uploadcheck"
	"microcert/shared/webhook"
)

// The steps of the applicant's journey, each through the real routes, for
// tests that need a case in some state. A step fails the test when the API
// refuses it.

// CompanyName is the name EnterpriseBody registers (and the name of its
// corporate account).
const CompanyName = "深圳市微认证测试有限公司"

// EnterpriseBody is a valid registration (a corporate account declared);
// n makes its USCC and legal representative's ID number unique.
func EnterpriseBody(n int) map[string]any {
	return map[string]any{
		"name": CompanyName, "uscc": domain.SampleUSCC(n),
		"legalRep":          map[string]any{"name": "张三", "idNumber": domain.SampleIDNumber(n), "phone": "13812345678"},
		"registeredAddress": "广东省深圳市南山区科技园路1号", "operatingAddress": "广东省深圳市南山区科技园路1号",
		"hasCorporateAccount": true,
	}
}

// Next is a number not used before in this Env (for unique bodies, keys).
func (e *Env) Next() int { return e.shared.next() }

// NewEnterprise registers an enterprise owned by as and returns its id.
func (e *Env) NewEnterprise(as Caller) string {
	e.T.Helper()
	return str(e.Must(201, Request{Route: "POST /v1/enterprises", As: as, Body: EnterpriseBody(e.Next())}), "id")
}

// OpenCase opens an initial case of the types (wecom if none) and returns
// its id.
func (e *Env) OpenCase(as Caller, entID string, types ...string) string {
	e.T.Helper()
	if len(types) == 0 {
		types = []string{string(domain.CertWeCom)}
	}
	return str(e.Must(201, Request{Route: "POST /v1/cases", As: as,
		Body: map[string]any{"enterpriseId": entID, "kind": "initial", "types": types}}), "id")
}

// Content is a file that passes the check of docType (a clear scan, or a
// 12-second video).
func Content(docType domain.DocType) (content []byte, contentType string) {
	if docType == domain.DocOfficeVideo {
		return fx.MP4(12), "video/mp4"
	}
	return fx.ClearJPEG(), "image/jpeg"
}

// Upload asks for an upload of docType, posts content with the presigned
// form (Content's file when nil) and runs the document check on the S3
// event, as DocCheckFunction would. It returns the document id.
func (e *Env) Upload(as Caller, caseID string, docType domain.DocType, content []byte) string {
	e.T.Helper()
	contentType := "image/jpeg"
	if content == nil {
		content, contentType = Content(docType)
	}
	up := e.Must(201, Request{Route: "POST /v1/cases/{caseId}/documents", Params: P("caseId", caseID), As: as,
		Body: map[string]any{"docType": docType, "contentType": contentType, "contentLength": len(content)}})
	if err := e.Bucket.Post(PostOf(e.T, up), content); err != nil {
		e.T.Fatalf("apitest: upload of %s: %v", docType, err)
	}
	if out, err := e.Check(str(up, "key")); err != nil || out != uploadcheck.Checked {
		e.T.Fatalf("apitest: document check of %s: %v %v", docType, out, err)
	}
	return str(up, "documentId")
}

// PostOf reads the presigned POST of an upload answer.
func PostOf(t interface{ Fatalf(string, ...any) }, upload map[string]any) blob.PresignedPost {
	fields := map[string]string{}
	fs, _ := upload["fields"].(map[string]any)
	for k, v := range fs {
		fields[k] = fmt.Sprint(v)
	}
	url, _ := upload["url"].(string)
	if url == "" || len(fields) == 0 {
		t.Fatalf("apitest: upload answer without a presigned POST: %v", upload)
	}
	return blob.PresignedPost{URL: url, Fields: fields}
}

// S3Event is the ObjectCreated record S3 sends for key, with a sequencer
// greater than every one before it in this Env.
func (e *Env) S3Event(key string) events.S3EventRecord {
	rec := events.S3EventRecord{EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: "us-east-1",
		EventTime: e.Clock.Now(), EventName: "ObjectCreated:Post"}
	rec.S3.Bucket.Name = "apitest-documents"
	rec.S3.Object.Key = key
	if info, err := e.Bucket.Head(context.Background(), key); err == nil {
		rec.S3.Object.Size = info.Size
	}
	rec.S3.Object.Sequencer = fmt.Sprintf("%016X", e.Next())
	return rec
}

// Check runs the document check on a fresh S3 event of key.
func (e *Env) Check(key string) (uploadcheck.Outcome, error) {
	return e.Checker.Process(context.Background(), e.S3Event(key))
}

// Callback sends a provider's callback to route (POST /v1/callbacks/face
// or /payment), signed with secret at the clock's now.
func (e *Env) Callback(route, secret string, body any) Response {
	e.T.Helper()
	return e.Do(e.SignedRequest(route, secret, body))
}

// SignedRequest is a provider's callback to route, signed with secret at
// the clock's now (a []byte body is sent as it is, JSON or not).
func (e *Env) SignedRequest(route, secret string, body any) Request {
	e.T.Helper()
	b, isBytes := body.([]byte)
	if !isBytes {
		var err error
		if b, err = json.Marshal(body); err != nil {
			e.T.Fatal(err)
		}
	}
	return Request{Route: route, Body: b, Headers: map[string]string{webhook.Header: webhook.Sign(secret, e.Clock.Now(), b)}}
}

// PassFace starts a face session (or a QR scan, route
// "POST /v1/cases/{caseId}/qr-verification") and has the provider report a
// pass.
func (e *Env) PassFace(as Caller, caseID, route string) {
	e.T.Helper()
	s := e.Must(201, Request{Route: route, Params: P("caseId", caseID), As: as})
	r := e.Callback("POST /v1/callbacks/face", Secrets.FaceWebhook, map[string]any{"sessionId": s["sessionId"],
		"result": "pass", "phoneMatchesRegistration": true, "livenessScore": 0.98})
	if r.Status != 200 {
		e.T.Fatalf("apitest: face callback: %d %s", r.Status, r.Body)
	}
}

// VerifyDeposit starts the micro-deposit to the enterprise's account and
// confirms the amount the bank paid (read from the payout outbox, as the
// account statement shows it).
func (e *Env) VerifyDeposit(as Caller, caseID string) {
	e.T.Helper()
	e.Must(201, Request{Route: "POST /v1/cases/{caseId}/bank-verification", Params: P("caseId", caseID), As: as,
		Body: map[string]any{"bankName": "招商银行深圳分行", "accountName": CompanyName, "accountNumber": "755912345678901"}})
	e.Must(200, Request{Route: "POST /v1/cases/{caseId}/bank-verification/confirm", Params: P("caseId", caseID), As: as,
		Body: map[string]any{"amountFen": e.DepositPaid(caseID)}})
}

// DepositPaid is the amount of the case's latest micro-deposit.
func (e *Env) DepositPaid(caseID string) int64 {
	e.T.Helper()
	ps, err := e.Store.Payouts(context.Background(), caseID)
	if err != nil || len(ps) == 0 {
		e.T.Fatalf("apitest: payouts of %s: %v %v", caseID, ps, err)
	}
	return ps[len(ps)-1].AmountFen
}

// Pay asks for the fee order and has the payment provider report it paid.
func (e *Env) Pay(as Caller, caseID string) {
	e.T.Helper()
	o := e.Must(201, Request{Route: "POST /v1/cases/{caseId}/payment", Params: P("caseId", caseID), As: as})
	r := e.Callback("POST /v1/callbacks/payment", Secrets.PaymentWebhook,
		map[string]any{"orderId": o["orderId"], "status": "paid", "paidFen": o["payableFen"]})
	if r.Status != 200 {
		e.T.Fatalf("apitest: payment callback: %d %s", r.Status, r.Body)
	}
}

// Fulfil meets every requirement the case view lists as currently due, in
// its order: documents, face and QR checks, the micro-deposit, the
// explanation and the fee.
func (e *Env) Fulfil(as Caller, caseID string) {
	e.T.Helper()
	for range 20 {
		due := e.CurrentlyDue(as, caseID)
		if len(due) == 0 {
			return
		}
		switch item := due[0]; item {
		case domain.ReqFaceVerification:
			e.PassFace(as, caseID, "POST /v1/cases/{caseId}/face-verification")
		case domain.ReqQRVerification:
			e.PassFace(as, caseID, "POST /v1/cases/{caseId}/qr-verification")
		case domain.ReqBankVerification:
			e.VerifyDeposit(as, caseID)
		case domain.ReqPayment:
			e.Pay(as, caseID)
		case domain.ReqExplanation:
			e.Must(200, Request{Route: "POST /v1/cases/{caseId}/explanation", Params: P("caseId", caseID), As: as,
				Body: map[string]any{"text": "已按要求整改，整改证明见附件。"}})
		default:
			e.Upload(as, caseID, domain.DocType(item), nil)
		}
	}
	e.T.Fatalf("apitest: case %s still has requirements due: %v", caseID, e.CurrentlyDue(as, caseID))
}

// CurrentlyDue lists the codes of the case's requirements currently due.
func (e *Env) CurrentlyDue(as Caller, caseID string) []string {
	e.T.Helper()
	var v struct {
		Requirements struct {
			CurrentlyDue []string `json:"currentlyDue"`
		} `json:"requirements"`
	}
	r := e.Do(Request{Route: "GET /v1/cases/{caseId}", Params: P("caseId", caseID), As: as})
	if r.Status != 200 {
		e.T.Fatalf("apitest: GET case %s: %d %s", caseID, r.Status, r.Body)
	}
	r.Decode(e.T, &v)
	return v.Requirements.CurrentlyDue
}

// SubmittedCase registers an enterprise of as, opens an initial case of the
// types (wecom if none), meets every requirement and submits it.
func (e *Env) SubmittedCase(as Caller, types ...string) (entID, caseID string) {
	e.T.Helper()
	entID = e.NewEnterprise(as)
	caseID = e.OpenCase(as, entID, types...)
	e.Fulfil(as, caseID)
	e.Must(200, Request{Route: "POST /v1/cases/{caseId}/submit", Params: P("caseId", caseID), As: as})
	return entID, caseID
}

// Approve has the reviewer claim the case and approve it; it returns the
// decided case.
func (e *Env) Approve(reviewer Caller, caseID string) map[string]any {
	e.T.Helper()
	c := e.Must(200, Request{Route: "POST /v1/cases/{caseId}/claim", Params: P("caseId", caseID), As: reviewer})
	return e.Must(200, Request{Route: "POST /v1/cases/{caseId}/decision", Params: P("caseId", caseID), As: reviewer,
		Body: map[string]any{"decision": "approve", "version": c["version"]}})
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// ApprovedCase registers an enterprise of Owner, takes an initial case of
// the types through review and has reviewer approve it; it returns the
// enterprise and the case.
func (e *Env) ApprovedCase(reviewer Caller, types ...string) (entID, caseID string) {
	e.T.Helper()
	entID, caseID = e.SubmittedCase(Owner, types...)
	e.Approve(reviewer, caseID)
	return entID, caseID
}

// Dispute is a dispute case claimed by a reviewer, ready for its decision.
type Dispute struct {
	CaseID  string
	Version int // the case's version after the claim (what a decision pins)
	// HolderID is the profile holding the USCC, Owner's; HolderCaseID is
	// its open case, which a won dispute withdraws.
	HolderID, HolderCaseID string
}

// ClaimedDispute registers an enterprise of Owner with an open case, has
// claimant dispute its USCC, meet the dispute's requirements and submit
// it, and has reviewer claim it.
func (e *Env) ClaimedDispute(claimant, reviewer Caller) Dispute {
	e.T.Helper()
	held := EnterpriseBody(e.Next())
	d := Dispute{HolderID: str(e.Must(201, Request{Route: "POST /v1/enterprises", As: Owner, Body: held}), "id")}
	d.HolderCaseID = e.OpenCase(Owner, d.HolderID)
	body := EnterpriseBody(e.Next())
	body["uscc"] = held["uscc"]
	d.CaseID = str(e.Must(201, Request{Route: "POST /v1/disputes", As: claimant, Body: body}), "id")
	e.Fulfil(claimant, d.CaseID)
	e.Must(200, Request{Route: "POST /v1/cases/{caseId}/submit", Params: P("caseId", d.CaseID), As: claimant})
	c := e.Must(200, Request{Route: "POST /v1/cases/{caseId}/claim", Params: P("caseId", d.CaseID), As: reviewer})
	v, _ := c["version"].(float64)
	d.Version = int(v)
	return d
}
