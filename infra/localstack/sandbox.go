package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"microcert/shared/apitime"
	"microcert/shared/domain"
	"microcert/shared/webhook"
)

// The provider sandbox stands in for the face-verification, payment, bank,
// WeChat and SMS providers the way their test modes do: it drives the real signed callbacks
// through the same gateway pipeline, serves the provider's refund API
// (sandboxpay.go) and writes the daily statements into the bucket. It lives only here, never in the
// template and never in ApiFunction.

// SandboxData is what the sandbox reads from the system's data. The store
// package implements it; the sandbox declares it because the sandbox uses it.
type SandboxData interface {
	// OrderPayable returns the amount still to pay for an order, in fen.
	OrderPayable(ctx context.Context, orderID string) (int64, error)
	// Payouts returns what the sandbox bank paid into a case's account.
	Payouts(ctx context.Context, caseID string) ([]Payout, error)
	// PayoutsForDay returns what the sandbox bank paid on a Beijing day
	// (its statement of micro-deposit transfers).
	PayoutsForDay(ctx context.Context, day string) ([]Payout, error)
}

// Payout is one micro-deposit as the applicant reads it on the statement.
type Payout struct {
	AmountFen    int64        `json:"amountFen"`
	AccountLast4 string       `json:"accountLast4"`
	PaidAt       apitime.Time `json:"paidAt"`
	// Reference is the transfer's reference (the payout instruction's id).
	Reference string `json:"reference"`
}

// SandboxDataFactory builds the SandboxData once the table is up. db talks to
// the local DynamoDB; table is the template's table name.
type SandboxDataFactory func(ctx context.Context, db *dynamodb.Client, table string) (SandboxData, error)

// DefaultSandboxData is used when Options.SandboxData is nil. It is nil until
// the store package provides an implementation: set it there to
// store-backed data (the hook is here so that infra/local and stacktest
// need no change).
var DefaultSandboxData SandboxDataFactory

type sandbox struct {
	api            http.Handler // the gateway: callbacks go through the whole pipeline
	data           SandboxData
	faceSecret     string
	paymentSecret  string
	now            func() time.Time
	logger         *slog.Logger
	callbackPrefix string
	// The payment provider's books and the bucket its statements go to.
	books    *payBooks
	s3       *s3.Client
	bucket   string
	messages messageBox

	muxOnce sync.Once
	mux     *http.ServeMux
}

func (s *sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.routes().ServeHTTP(w, r) }

// routes is the sandbox's route table, built once; anything else is the
// gateway's 404.
func (s *sandbox) routes() *http.ServeMux {
	s.muxOnce.Do(func() {
		m := http.NewServeMux()
		m.HandleFunc("POST /_sandbox/face", s.face)
		m.HandleFunc("POST /_sandbox/payments", s.pay)
		m.HandleFunc("POST /_sandbox/refunds", s.refund)
		m.HandleFunc("GET /_sandbox/refunds", s.listRefunds)
		m.HandleFunc("POST /_sandbox/refunds/faults", s.setRefundFaults)
		m.HandleFunc("POST /_sandbox/refunds/manual", s.manualRefund)
		m.HandleFunc("POST /_sandbox/statements", s.statementsNow)
		m.HandleFunc("GET /_sandbox/deposits", s.deposits)
		m.HandleFunc("GET /_sandbox/wechat/cgi-bin/token", s.wechatToken)
		m.HandleFunc("POST /_sandbox/wechat/cgi-bin/message/subscribe/send", s.wechatSend)
		m.HandleFunc("POST /_sandbox/sms/v1/sms/send", s.smsSend)
		m.HandleFunc("GET /_sandbox/wechat/messages", s.inbox)
		m.HandleFunc("GET /_sandbox/sms/messages", s.inbox)
		m.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { writeGatewayError(w, http.StatusNotFound, "Not Found") })
		s.mux = m
	})
	return s.mux
}

func sandboxError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func decodeStrict(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// face plays the face-verification provider finishing a liveness session.
func (s *sandbox) face(w http.ResponseWriter, r *http.Request) {
	var in struct {
		SessionID                string `json:"sessionId"`
		Result                   string `json:"result"`
		PhoneMatchesRegistration *bool  `json:"phoneMatchesRegistration"`
	}
	if err := decodeStrict(r, &in); err != nil {
		sandboxError(w, http.StatusBadRequest, "want {sessionId, result, phoneMatchesRegistration}: "+err.Error())
		return
	}
	if in.SessionID == "" || (in.Result != "pass" && in.Result != "fail") {
		sandboxError(w, http.StatusBadRequest, `sessionId is required and result is "pass" or "fail"`)
		return
	}
	phone := true
	if in.PhoneMatchesRegistration != nil {
		phone = *in.PhoneMatchesRegistration
	}
	score := 0.98
	if in.Result == "fail" {
		score = 0.12
	}
	body, _ := json.Marshal(struct {
		SessionID                string  `json:"sessionId"`
		Result                   string  `json:"result"`
		PhoneMatchesRegistration bool    `json:"phoneMatchesRegistration"`
		LivenessScore            float64 `json:"livenessScore"`
	}{in.SessionID, in.Result, phone, score})
	s.callback(w, r.Context(), "face", s.faceSecret, body)
}

// deposits plays the bank statement of the applicant's account.
func (s *sandbox) deposits(w http.ResponseWriter, r *http.Request) {
	caseID := r.URL.Query().Get("caseId")
	if caseID == "" {
		sandboxError(w, http.StatusBadRequest, "want ?caseId=")
		return
	}
	if s.data == nil {
		sandboxError(w, http.StatusNotImplemented, "sandbox data is not wired (localstack.DefaultSandboxData)")
		return
	}
	items, err := s.data.Payouts(r.Context(), caseID)
	if err != nil {
		s.dataError(w, err)
		return
	}
	if items == nil {
		items = []Payout{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"items": items})
}

func (s *sandbox) dataError(w http.ResponseWriter, err error) {
	var de *domain.Error
	if errors.As(err, &de) && de.Kind == domain.KindNotFound {
		sandboxError(w, http.StatusNotFound, err.Error())
		return
	}
	s.logger.Error("sandbox data", "err", err)
	sandboxError(w, http.StatusInternalServerError, err.Error())
}

// callback posts a signed provider callback to /v1/callbacks/<kind> through
// the gateway and relays its answer.
func (s *sandbox) callback(w http.ResponseWriter, ctx context.Context, kind, secret string, body []byte) {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("%s/v1/callbacks/%s", s.callbackPrefix, kind), bytes.NewReader(body))
	req.RemoteAddr = "127.0.0.1:0"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "microcert-sandbox-"+kind)
	req.Header.Set(webhook.Header, webhook.Sign(secret, s.now(), body))
	rec := httptest.NewRecorder()
	s.api.ServeHTTP(rec, req)
	for k, vs := range rec.Header() {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}
