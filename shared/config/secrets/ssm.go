package secrets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"microcert/shared/config"
)

// getParameters calls SSM GetParameters (WithDecryption) as one signed
// JSON request. Why not the SDK's SSM client: linking service/ssm adds about
// 1 MB and over a millisecond of package init (its generated schemas) to
// every cold start of ApiFunction, for one call made once per sandbox
// (BENCHMARKS.md). The SigV4 signer is already linked by the other clients.
func getParameters(ctx context.Context, cfg aws.Config, names []string) (map[string]string, []string, error) {
	body, err := json.Marshal(map[string]any{"Names": names, "WithDecryption": true})
	if err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ssmEndpoint(cfg.Region)+"/", bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameters")
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ssm", cfg.Region, time.Now()); err != nil {
		return nil, nil, err
	}
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, nil, err
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &e)
		return nil, nil, fmt.Errorf("GetParameters: HTTP %d %s %s", res.StatusCode, e.Type, e.Message)
	}
	var out struct {
		Parameters []struct {
			Name  string `json:"Name"`
			Value string `json:"Value"`
		} `json:"Parameters"`
		InvalidParameters []string `json:"InvalidParameters"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, nil, fmt.Errorf("GetParameters: %w", err)
	}
	values := make(map[string]string, len(out.Parameters))
	for _, p := range out.Parameters {
		values[p.Name] = p.Value
	}
	return values, out.InvalidParameters, nil
}

// ssmEndpoint is AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL, else the
// regional endpoint (China's regions live under amazonaws.com.cn).
func ssmEndpoint(region string) string {
	if e := config.Endpoint("SSM"); e != nil {
		return strings.TrimRight(*e, "/")
	}
	suffix := "amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		suffix = "amazonaws.com.cn"
	}
	return "https://ssm." + region + "." + suffix
}
