// Package selfinvoke invokes a Lambda function asynchronously (the Invoke
// API with InvocationType Event): the jobs fan a day's work out over
// invocations of their own function with it. One signed HTTP request,
// like shared/config/secrets: the SDK's Lambda client would add its package
// inits to every cold start of the jobs for one call.
package selfinvoke

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"microcert/shared/config"
)

// Client invokes one function.
type Client struct {
	cfg      aws.Config
	function string
	endpoint string
	http     *http.Client
}

// New returns a client invoking function (a name or ARN; in Lambda the
// function's own name, AWS_LAMBDA_FUNCTION_NAME) at AWS_ENDPOINT_URL_LAMBDA
// or the region's endpoint.
func New(cfg aws.Config, function string) *Client {
	endpoint := ""
	if e := config.Endpoint("LAMBDA"); e != nil {
		endpoint = strings.TrimRight(*e, "/")
	} else {
		suffix := "amazonaws.com"
		if strings.HasPrefix(cfg.Region, "cn-") {
			suffix = "amazonaws.com.cn"
		}
		endpoint = "https://lambda." + cfg.Region + "." + suffix
	}
	return &Client{cfg: cfg, function: function, endpoint: endpoint, http: &http.Client{Timeout: 10 * time.Second}}
}

// InvokeAsync queues one invocation with event as its payload; Lambda
// answers 202 once the event is queued.
func (c *Client) InvokeAsync(ctx context.Context, event []byte) error {
	u := c.endpoint + "/2015-03-31/functions/" + url.PathEscape(c.function) + "/invocations"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(event))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Invocation-Type", "Event")
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	sum := sha256.Sum256(event)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "lambda", c.cfg.Region, time.Now()); err != nil {
		return err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusAccepted {
		return fmt.Errorf("invoke %s: HTTP %d: %s", c.function, res.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}
