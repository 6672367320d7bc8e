package secrets

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
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
