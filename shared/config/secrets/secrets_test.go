package secrets

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

func TestLoadFromEnvironment(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr bool
		want    Secrets
	}{
		{"current keys", map[string]string{"FACE_WEBHOOK_SECRET": "f", "PAYMENT_WEBHOOK_SECRET": "p", "DEPOSIT_HMAC_KEY": "d"}, false,
			Secrets{FaceWebhook: "f", PaymentWebhook: "p", DepositHMACKey: "d"}},
		{"during rotation", map[string]string{"FACE_WEBHOOK_SECRET": "f", "FACE_WEBHOOK_SECRET_PREVIOUS": "f0",
			"PAYMENT_WEBHOOK_SECRET": "p", "PAYMENT_WEBHOOK_SECRET_PREVIOUS": "p0", "DEPOSIT_HMAC_KEY": "d"}, false,
			Secrets{FaceWebhook: "f", FaceWebhookPrevious: "f0", PaymentWebhook: "p", PaymentWebhookPrevious: "p0", DepositHMACKey: "d"}},
		{"deposit key missing", map[string]string{"FACE_WEBHOOK_SECRET": "f", "PAYMENT_WEBHOOK_SECRET": "p"}, true, Secrets{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range vars {
				t.Setenv(v.name, tc.env[v.name])
				t.Setenv(v.name+"_PARAM", "")
			}
			got, err := Load(context.Background(), aws.Config{})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestLoadFromSSM: the parameters named by <NAME>_PARAM are fetched with one
// signed GetParameters call.
func TestLoadFromSSM(t *testing.T) {
	var got struct {
		Names          []string
		WithDecryption bool
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameters" || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") ||
			!strings.Contains(r.Header.Get("Authorization"), "/ssm/aws4_request") {
			http.Error(w, `{"__type":"AccessDeniedException"}`, 400)
			return
		}
		_ = json.NewDecoder(r.Body).Decode(&got)
		params := []map[string]string{}
		for _, n := range got.Names {
			params = append(params, map[string]string{"Name": n, "Value": "v:" + n})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"Parameters": params, "InvalidParameters": []string{}})
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_SSM", srv.URL)
	for _, v := range vars {
		t.Setenv(v.name, "")
		t.Setenv(v.name+"_PARAM", "/microcert/test/"+strings.ToLower(v.name))
	}
	cfg := aws.Config{Region: "cn-north-1", Credentials: credentials.NewStaticCredentialsProvider("id", "secret", "")}
	s, err := Load(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !got.WithDecryption || len(got.Names) != len(vars) {
		t.Fatalf("request %+v", got)
	}
	if s.DepositHMACKey != "v:/microcert/test/deposit_hmac_key" || s.FaceWebhookPrevious != "v:/microcert/test/face_webhook_secret_previous" {
		t.Fatalf("secrets %+v", s)
	}
}

func TestSSMEndpoint(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_SSM", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	for region, want := range map[string]string{"us-east-1": "https://ssm.us-east-1.amazonaws.com", "cn-north-1": "https://ssm.cn-north-1.amazonaws.com.cn"} {
		if got := ssmEndpoint(region); got != want {
			t.Errorf("%s: %s, want %s", region, got, want)
		}
	}
}
