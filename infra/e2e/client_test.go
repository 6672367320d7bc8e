package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"testing"
	"time"

	"microcert/infra/contract/client"
	"microcert/shared/domain"
	"microcert/shared/httpapi/openapicheck"
)

// validating checks every answer the generated client receives against
// openapi.yaml, strictly, like app.do: the client reads only documented
// answers, and the contract is the one the client was generated from.
type validating struct {
	t    testing.TB
	next http.RoundTripper
}

func (v validating) RoundTrip(req *http.Request) (*http.Response, error) {
	var sent []byte
	if req.Body != nil {
		var err error
		if sent, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(sent))
	}
	res, err := v.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(got))
	openapicheck.ValidateResponse(v.t, req.Method, req.URL.String(), req.Header, sent, res.StatusCode, res.Header, got)
	return res, nil
}

// generatedClient is the client generated from openapi.yaml
// (infra/contract/client), signed in as a new applicant, in English.
func generatedClient(t *testing.T) (*client.ClientWithResponses, *app) {
	t.Helper()
	a := newApp(t, "applicant", "")
	c, err := client.NewClientWithResponses(shared.APIURL(),
		client.WithHTTPClient(&http.Client{Timeout: 60 * time.Second, Transport: validating{t, http.DefaultTransport}}),
		client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+a.token)
			req.Header.Set("Accept-Language", "en")
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	return c, a
}

// TestGeneratedClientApplicantFlow drives the whole first application
// through the Go client generated from openapi.yaml, as an app team would:
// profile -> case -> requirements -> presigned uploads -> face ->
// micro-deposit -> payment -> submit, with typed errors on the way. The
// provider sandbox (not part of the contract) is driven over plain HTTP.
func TestGeneratedClientApplicantFlow(t *testing.T) {
	onShared(t)
	ctx := context.Background()
	c, a := generatedClient(t)
	n := int(seed.Add(1))

	ent, err := c.CreateEnterpriseWithResponse(ctx, nil, client.CreateEnterpriseRequest{
		Name: "深圳市微认证科技有限公司", Uscc: domain.SampleUSCC(n),
		LegalRep:          client.LegalRepInput{Name: "张三", IdNumber: domain.SampleIDNumber(n), Phone: "13812345678"},
		RegisteredAddress: "广东省深圳市南山区科技园路1号", OperatingAddress: "广东省深圳市南山区科技园路1号",
		HasCorporateAccount: true, // no regionCode: a current app lets the USCC say it
	})
	if err != nil || ent.JSON201 == nil {
		t.Fatalf("create enterprise: %v %s", err, seen(ent))
	}
	if ent.JSON201.LegalRep.Phone != "138****5678" || len(ent.JSON201.Certifications) != 0 || ent.JSON201.RegionCode != "440300" {
		t.Fatalf("enterprise = %+v", ent.JSON201)
	}

	// A typed error: the same USCC again.
	dup, err := c.CreateEnterpriseWithResponse(ctx, nil, client.CreateEnterpriseRequest{
		Name: "x", Uscc: domain.SampleUSCC(n), LegalRep: client.LegalRepInput{Name: "李四", IdNumber: domain.SampleIDNumber(n + 1), Phone: "13812345678"},
		RegisteredAddress: "a", OperatingAddress: "a", HasCorporateAccount: true,
	})
	if err != nil || dup.ApplicationproblemJSON409 == nil || dup.ApplicationproblemJSON409.Code != client.ErrorCodeEnterpriseExists {
		t.Fatalf("duplicate USCC: %v %s", err, seen(dup))
	}

	opened, err := c.OpenCaseWithResponse(ctx, nil, client.OpenCaseRequest{
		EnterpriseId: ent.JSON201.Id, Kind: client.CaseKindInitial, Types: &[]client.CertType{client.CertTypeWecom, client.CertTypeOfficialAccount},
	})
	if err != nil || opened.JSON201 == nil {
		t.Fatalf("open case: %v %s", err, seen(opened))
	}
	cs := opened.JSON201
	caseID := cs.Id
	if cs.Status != client.CaseStatusDraft || cs.Documents == nil || cs.History == nil || cs.Fee.PayableFen != 15000 {
		t.Fatalf("opened case = %+v", cs)
	}
	due := map[client.RequirementCode]bool{}
	for _, r := range cs.Requirements.CurrentlyDue {
		due[r] = true
	}
	for _, want := range []client.RequirementCode{client.RequirementCodeBusinessLicense, client.RequirementCodeFaceVerification,
		client.RequirementCodeBankVerification, client.RequirementCodePayment} {
		if !due[want] {
			t.Errorf("currentlyDue %v lacks %s", cs.Requirements.CurrentlyDue, want)
		}
	}

	early, err := c.SubmitCaseWithResponse(ctx, caseID, nil)
	if err != nil || early.ApplicationproblemJSON409 == nil {
		t.Fatalf("early submit: %v %s", err, seen(early))
	}
	if p := early.ApplicationproblemJSON409; p.Code != client.ErrorCodeRequirementsUnmet || p.Requirements == nil || len(p.Requirements.CurrentlyDue) == 0 {
		t.Fatalf("early submit problem = %+v", p)
	}

	for _, dt := range []client.DocType{client.DocTypeBusinessLicense, client.DocTypeLegalRepIdFront, client.DocTypeLegalRepIdBack} {
		content := uniqueScan()
		up, err := c.RequestUploadWithResponse(ctx, caseID, nil, client.UploadRequest{
			DocType: dt, ContentType: client.DocContentTypeImagejpeg, ContentLength: int64(len(content)),
		})
		if err != nil || up.JSON201 == nil {
			t.Fatalf("upload %s: %v %s", dt, err, seen(up))
		}
		fields := map[string]any{}
		for k, v := range up.JSON201.Fields {
			fields[k] = v
		}
		if st, b := postFile(t, map[string]any{"url": up.JSON201.Url, "fields": fields}, content); st/100 != 2 {
			t.Fatalf("presigned POST of %s: %d %s", dt, st, b)
		}
		if check := waitCheckedTyped(t, c, caseID, up.JSON201.DocumentId); check.Status != client.DocumentCheckStatusPassed {
			t.Fatalf("%s check = %+v", dt, check)
		}
	}

	face, err := c.StartFaceVerificationWithResponse(ctx, caseID, nil, client.StartFaceVerificationJSONRequestBody{})
	if err != nil || face.JSON201 == nil || face.JSON201.Status != client.VerificationStatusPending {
		t.Fatalf("face: %v %s", err, seen(face))
	}
	a.must(200, "POST", "/_sandbox/face", map[string]any{"sessionId": face.JSON201.SessionId, "result": "pass", "phoneMatchesRegistration": true})

	bank, err := c.StartBankVerificationWithResponse(ctx, caseID, nil, client.BankVerificationRequest{
		BankName: "招商银行深圳分行", AccountName: "深圳市微认证科技有限公司", AccountNumber: "7559 1234 5678 901",
	})
	if err != nil || bank.JSON201 == nil || bank.JSON201.Account != "**** 8901" || bank.JSON201.AttemptsLeft != 3 {
		t.Fatalf("micro-deposit: %v %s", err, seen(bank))
	}
	amount := a.depositAmount(caseID)
	wrong := amount%99 + 1
	bad, err := c.ConfirmBankVerificationWithResponse(ctx, caseID, nil, client.ConfirmBankVerificationRequest{AmountFen: wrong})
	if err != nil || bad.ApplicationproblemJSON422 == nil || bad.ApplicationproblemJSON422.Code != client.ErrorCodeWrongAmount ||
		bad.ApplicationproblemJSON422.AttemptsLeft == nil || *bad.ApplicationproblemJSON422.AttemptsLeft != 2 {
		t.Fatalf("wrong amount: %v %s", err, seen(bad))
	}
	ok, err := c.ConfirmBankVerificationWithResponse(ctx, caseID, nil, client.ConfirmBankVerificationRequest{AmountFen: amount})
	if err != nil || ok.JSON200 == nil || ok.JSON200.Status != client.BankVerificationStatusVerified {
		t.Fatalf("confirm: %v %s", err, seen(ok))
	}

	order, err := c.CreatePaymentWithResponse(ctx, caseID, nil, client.CreatePaymentJSONRequestBody{})
	if err != nil || order.JSON201 == nil || order.JSON201.PayableFen != 15000 || order.JSON201.Currency != client.CurrencyCNY {
		t.Fatalf("payment: %v %s", err, seen(order))
	}
	a.must(200, "POST", "/_sandbox/payments", map[string]any{"orderId": order.JSON201.OrderId})

	got, err := c.GetCaseWithResponse(ctx, caseID, nil)
	if err != nil || got.JSON200 == nil {
		t.Fatalf("get case: %v %s", err, seen(got))
	}
	if r := got.JSON200.Requirements; len(r.CurrentlyDue)+len(r.PendingVerification)+len(r.Errors) != 0 {
		t.Fatalf("requirements left before submit: %+v", r)
	}
	if v := got.JSON200.Verifications.Face; v == nil || v.Status != client.VerificationStatusPassed {
		t.Fatalf("face verification = %+v", v)
	}

	sub, err := c.SubmitCaseWithResponse(ctx, caseID, nil)
	if err != nil || sub.JSON200 == nil {
		t.Fatalf("submit: %v %s", err, seen(sub))
	}
	if s := sub.JSON200; s.Status != client.CaseStatusSubmitted || s.ReviewDueAt == nil || !s.ReviewDueAt.After(time.Now().Add(5*24*time.Hour)) ||
		s.SubmittedAt == nil || len(s.Documents) != 3 {
		t.Fatalf("submitted case = %+v", s)
	}
	last := sub.JSON200.History[len(sub.JSON200.History)-1]
	if last.From != client.TransitionStateDraft || last.To != client.TransitionStateSubmitted || last.Role != client.RoleApplicant {
		t.Fatalf("last history entry = %+v", last)
	}

	list, err := c.ListEnterpriseCasesWithResponse(ctx, ent.JSON201.Id, nil)
	if err != nil || list.JSON200 == nil || len(list.JSON200.Items) != 1 || list.JSON200.Items[0].Status != client.CaseStatusSubmitted {
		t.Fatalf("case list: %v %s", err, seen(list))
	}
}

// waitCheckedTyped polls the case's documents until the check of docID has
// a result.
func waitCheckedTyped(t *testing.T, c *client.ClientWithResponses, caseID, docID string) client.DocumentCheck {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		res, err := c.ListDocumentsWithResponse(context.Background(), caseID, nil)
		if err != nil || res.JSON200 == nil {
			t.Fatalf("documents: %v %s", err, seen(res))
		}
		for _, d := range res.JSON200.Items {
			if d.Id == docID && d.Check.Status != client.DocumentCheckStatusPending {
				return d.Check
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("document %s was not checked within 60s", docID)
	return client.DocumentCheck{}
}

// seen shows a generated response (status and raw body) in failures.
func seen(r any) string {
	v := reflect.ValueOf(r)
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		return "no response"
	}
	res, _ := v.Elem().FieldByName("HTTPResponse").Interface().(*http.Response)
	code := 0
	if res != nil {
		code = res.StatusCode
	}
	return fmt.Sprintf("%d %s", code, v.Elem().FieldByName("Body").Bytes())
}
