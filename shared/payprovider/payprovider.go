// Package payprovider is the client of the payment provider's refund API:
// POST <base>/refunds, signed with the merchant key (the key the provider
// also signs its callbacks with, as WeChat Pay's API v2 key is used both
// ways), with the refund's key as Idempotency-Key and as the request id.
//
//	request:  {"refundId": "<id>-<round>", "orderId", "transactionId", "amountFen", "reason"}
//	answer:   200 {"providerRefundId", "status": "processing" | "succeeded" | "failed",
//	               "amountFen", "succeededAt", "failReason"}
//
// The same refundId always gets the answer of the first request (the
// provider pays a key at most once). A 4xx other than 408/409/429 is a
// refusal (the refund failed for that key); any other failure is no answer.
package payprovider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"microcert/shared/certsvc"
	"microcert/shared/clock"
	"microcert/shared/domain"
	"microcert/shared/webhook"
)

// Client calls the provider. Build it once per process.
type Client struct {
	base   string
	secret string
	http   *http.Client
	clock  clock.Clock
}

var _ certsvc.RefundProvider = (*Client)(nil)

// FromURL is the provider of a function: nil (refunds stay due for a
// function that has one) when baseURL is empty.
func FromURL(baseURL, secret string) certsvc.RefundProvider {
	if baseURL == "" {
		return nil
	}
	return New(baseURL, secret, nil)
}

// New returns a client of the API at baseURL, signing with secret.
func New(baseURL, secret string, c clock.Clock) *Client {
	if c == nil {
		c = clock.System{}
	}
	return &Client{base: strings.TrimSuffix(baseURL, "/"), secret: secret, clock: c,
		http: &http.Client{Timeout: 3 * time.Second}}
}

type refundBody struct {
	RefundID      string `json:"refundId"`
	OrderID       string `json:"orderId"`
	TransactionID string `json:"transactionId,omitempty"`
	AmountFen     int64  `json:"amountFen"`
	Reason        string `json:"reason"`
}

type answerBody struct {
	ProviderRefundID string     `json:"providerRefundId"`
	Status           string     `json:"status"`
	AmountFen        int64      `json:"amountFen"`
	SucceededAt      *time.Time `json:"succeededAt"`
	FailReason       string     `json:"failReason"`
}

// Refund orders a refund; see the package comment for the answers.
func (c *Client) Refund(ctx context.Context, req certsvc.RefundRequest) (domain.ProviderAnswer, error) {
	body, err := json.Marshal(refundBody{RefundID: req.Key, OrderID: req.OrderID, TransactionID: req.TransactionID,
		AmountFen: req.AmountFen, Reason: req.Reason})
	if err != nil {
		return domain.ProviderAnswer{}, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/refunds", bytes.NewReader(body))
	if err != nil {
		return domain.ProviderAnswer{}, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Idempotency-Key", req.Key)
	hr.Header.Set(webhook.Header, webhook.Sign(c.secret, c.clock.Now(), body))
	res, err := c.http.Do(hr)
	if err != nil {
		return domain.ProviderAnswer{}, fmt.Errorf("refund request: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return domain.ProviderAnswer{}, fmt.Errorf("refund answer: %w", err)
	}
	switch code := res.StatusCode; {
	case code == http.StatusOK || code == http.StatusCreated:
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusConflict && code != http.StatusTooManyRequests:
		return domain.ProviderAnswer{Status: domain.RefundFailed, Detail: fmt.Sprintf("refused: HTTP %d %s", code, trim(raw))}, nil
	default:
		return domain.ProviderAnswer{}, fmt.Errorf("refund answer: HTTP %d %s", code, trim(raw))
	}
	var a answerBody
	if err := json.Unmarshal(raw, &a); err != nil {
		return domain.ProviderAnswer{}, fmt.Errorf("refund answer: %w", err)
	}
	out := domain.ProviderAnswer{ProviderRefundID: a.ProviderRefundID, AmountFen: a.AmountFen, Detail: a.FailReason}
	if a.SucceededAt != nil {
		out.At = a.SucceededAt.UTC()
	}
	switch a.Status {
	case "processing":
		out.Status = domain.RefundPending
	case "succeeded":
		out.Status = domain.RefundSucceeded
	case "failed":
		out.Status = domain.RefundFailed
	default:
		return domain.ProviderAnswer{}, fmt.Errorf("refund answer: unknown status %q", a.Status)
	}
	return out, nil
}

func trim(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
