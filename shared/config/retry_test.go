package config

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestRetriesOutliveAnErrorBurst makes every call of a long burst fail
// twice before it succeeds. With the SDK's retry quota the bucket empties
// after about a hundred such calls and each later call fails on its first
// error; without it every call succeeds on its third attempt.
func TestRetriesOutliveAnErrorBurst(t *testing.T) {
	const calls = 250 // net 5 tokens per call: the default 500-token bucket lasts ~100
	fastBackoff := func(r aws.Retryer) aws.Retryer { return retry.AddWithMaxBackoffDelay(r, time.Millisecond) }
	cases := []struct {
		name    string
		failure func(w http.ResponseWriter)
		success func(w http.ResponseWriter)
		client  func(c Config) func(ctx context.Context) error
	}{
		{
			name: "dynamodb",
			failure: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				w.WriteHeader(500)
				w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"burst"}`))
			},
			success: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				w.Write([]byte(`{}`))
			},
			client: func(c Config) func(ctx context.Context) error {
				db := c.DynamoDB(func(o *dynamodb.Options) { o.Retryer = fastBackoff(o.Retryer) })
				return func(ctx context.Context) error {
					_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"),
						Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "k"}}})
					return err
				}
			},
		},
		{
			name:    "s3",
			failure: func(w http.ResponseWriter) { w.WriteHeader(503) },
			success: func(w http.ResponseWriter) { w.Header().Set("Content-Length", "0") },
			client: func(c Config) func(ctx context.Context) error {
				s := c.S3(func(o *s3.Options) { o.Retryer = fastBackoff(o.Retryer) })
				return func(ctx context.Context) error {
					_, err := s.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
					return err
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1)%3 != 0 { // attempts 1 and 2 of every call fail
					tc.failure(w)
					return
				}
				tc.success(w)
			}))
			defer srv.Close()
			t.Setenv("AWS_ENDPOINT_URL", srv.URL)
			c := Config{S3UsePathStyle: true, AWS: aws.Config{Region: "cn-north-1",
				Credentials: credentials.NewStaticCredentialsProvider("id", "secret", "")}}
			call := tc.client(c) // one client, as in a warm execution environment
			for i := range calls {
				if err := call(t.Context()); err != nil {
					t.Fatalf("call %d of the burst failed: %v", i+1, err)
				}
			}
		})
	}
}
