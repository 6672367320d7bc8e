package config

import "testing"

func TestAWSFromEnv(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	if _, err := AWSFromEnv(); err == nil {
		t.Fatal("no region: want an error")
	}
	t.Setenv("AWS_REGION", "cn-north-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "id")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "token")
	cfg, err := AWSFromEnv()
	if err != nil || cfg.Region != "cn-north-1" {
		t.Fatalf("cfg %+v, err %v", cfg, err)
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil || creds.AccessKeyID != "id" || creds.SessionToken != "token" {
		t.Fatalf("credentials %+v, %v", creds, err)
	}
}

func TestEndpoint(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
	if Endpoint("DYNAMODB") != nil {
		t.Fatal("no override: want nil (AWS default)")
	}
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	if got := *Endpoint("DYNAMODB"); got != "http://127.0.0.1:1" {
		t.Fatalf("generic override: %s", got)
	}
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2")
	if got := *Endpoint("DYNAMODB"); got != "http://127.0.0.1:2" {
		t.Fatalf("service override wins: %s", got)
	}
}

func TestParseMilestones(t *testing.T) {
	tests := []struct {
		in      string
		wantErr bool
	}{
		{"60,30,7,1", false}, {"60", false}, {"30,60", true}, {"x", true}, {"60,60", true}, {"400", true},
	}
	for _, tc := range tests {
		if _, err := ParseMilestones(tc.in); (err != nil) != tc.wantErr {
			t.Errorf("ParseMilestones(%q) err = %v", tc.in, err)
		}
	}
}
