package template

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readRepoTemplate() (string, error) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "template.yaml"))
	return string(b), err
}

func TestTemplateLocal(t *testing.T) {
	tpl, err := LoadRepo(repoRoot)
	if err != nil {
		t.Fatal(err)
	}

	var ids []string
	for _, f := range tpl.Functions {
		ids = append(ids, f.LogicalID+" "+f.Folder)
		// Globals applied.
		if f.Runtime != "provided.al2023" || f.Handler != "bootstrap" || !cmp.Equal(f.Architectures, []string{"arm64"}) {
			t.Errorf("%s: Globals not applied: %q %q %v", f.LogicalID, f.Runtime, f.Handler, f.Architectures)
		}
		if f.Env["TABLE_NAME"] != "microcert-local" || f.Env["BUCKET_NAME"] != "microcert-documents-000000000000-local" {
			t.Errorf("%s: env %v", f.LogicalID, f.Env)
		}
	}
	wantIDs := []string{
		"ApiFunction functions/api", "DispatcherFunction functions/dispatcher", "DocCheckFunction functions/doccheck",
		"ExpiryFunction functions/expiry", "ReconcileFunction functions/reconcile",
		"RefundFunction functions/refund", "ReminderFunction functions/reminder",
	}
	if d := cmp.Diff(wantIDs, ids); d != "" {
		t.Errorf("functions (-want +got):\n%s", d)
	}

	// Which routes: exactly the router's (the lint's route table check).
	api, _ := tpl.Function("ApiFunction")
	if len(api.Routes) == 0 {
		t.Error("ApiFunction has no HttpApi routes")
	}
	for _, k := range []string{"FACE_WEBHOOK_SECRET_PARAM", "FACE_WEBHOOK_SECRET_PREVIOUS_PARAM", "PAYMENT_WEBHOOK_SECRET_PARAM", "PAYMENT_WEBHOOK_SECRET_PREVIOUS_PARAM", "DEPOSIT_HMAC_KEY_PARAM"} {
		if api.Env[k] == "" {
			t.Errorf("ApiFunction lacks %s", k)
		}
	}
	// A function's own variables are merged with the Globals', not replacing them.
	if api.Env["LOG_LEVEL"] != "INFO" || api.Env["DOCUMENT_RETENTION_DAYS"] != "30" {
		t.Errorf("ApiFunction env lost Globals: %v", api.Env)
	}

	dc, _ := tpl.Function("DocCheckFunction")
	wantS3 := []S3Event{{Name: "Upload", Bucket: "microcert-documents-000000000000-local", Events: []string{"s3:ObjectCreated:*"}, Prefix: "uploads/"}}
	if d := cmp.Diff(wantS3, dc.S3Events); d != "" {
		t.Errorf("DocCheckFunction S3 events (-want +got):\n%s", d)
	}
	if dc.MaximumRetryAttempts == nil || *dc.MaximumRetryAttempts != 2 {
		t.Errorf("DocCheckFunction MaximumRetryAttempts = %v", dc.MaximumRetryAttempts)
	}
	for _, id := range []string{"ReminderFunction", "ExpiryFunction"} {
		f, _ := tpl.Function(id)
		if d := cmp.Diff([]Schedule{{Name: "Daily", Expression: "cron(0 1 * * ? *)", Enabled: true}}, f.Schedules); d != "" {
			t.Errorf("%s schedules (-want +got):\n%s", id, d)
		}
	}

	gsi := func(name, h, r string) GSI { return GSI{Name: name, HashKey: h, RangeKey: r, ProjectionType: "ALL"} }
	phashGSI := func(band int) GSI {
		return GSI{Name: fmt.Sprintf("PHashIndex%d", band), HashKey: fmt.Sprintf("ph%d", band), RangeKey: "phsk",
			ProjectionType: "INCLUDE", NonKeyAttributes: []string{"id", "caseId", "enterpriseId", "phash"}}
	}
	wantTable := Table{
		LogicalID: "Table", Name: "microcert-local", HashKey: "pk", RangeKey: "sk",
		Attributes: map[string]string{
			"pk": "S", "sk": "S", "gsi1pk": "S", "gsi1sk": "S", "qpk": "S", "qsk": "S",
			"duepk": "S", "duesk": "S", "rpk": "S", "rsk": "S", "hpk": "S", "hsk": "S",
			"ph0": "S", "ph1": "S", "ph2": "S", "ph3": "S", "phsk": "S",
		},
		GSIs: []GSI{
			gsi("GSI1", "gsi1pk", "gsi1sk"), gsi("QueueIndex", "qpk", "qsk"), gsi("DueIndex", "duepk", "duesk"),
			gsi("RemindIndex", "rpk", "rsk"), gsi("HashIndex", "hpk", "hsk"),
			phashGSI(0), phashGSI(1), phashGSI(2), phashGSI(3),
		},
		TTLAttribute: "ttl",
	}
	if d := cmp.Diff(wantTable, tpl.Table); d != "" {
		t.Errorf("table (-want +got):\n%s", d)
	}
	if d := cmp.Diff(Bucket{LogicalID: "DocumentsBucket", Name: "microcert-documents-000000000000-local"}, tpl.Bucket); d != "" {
		t.Errorf("bucket (-want +got):\n%s", d)
	}

	// The deployed table keeps its data safe.
	tb := tpl.Resolved.Resources["Table"]
	if tb == nil {
		t.Fatal("no Table resource")
	}
	for _, o := range []string{"ApiUrl", "TableName", "BucketName"} {
		if _, ok := tpl.Resolved.Outputs[o]; !ok {
			t.Errorf("output %s missing", o)
		}
	}
}

func TestTableSafety(t *testing.T) {
	tpl, err := LoadRepo(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := tpl.Resolved.GetDynamoDBTableWithName("Table")
	if err != nil {
		t.Fatal(err)
	}
	if deref(tb.BillingMode) != "PAY_PER_REQUEST" {
		t.Error("table is not on-demand")
	}
	if tb.PointInTimeRecoverySpecification == nil || tb.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled == nil || !*tb.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled {
		t.Error("no point-in-time recovery")
	}
	if tb.SSESpecification == nil || !tb.SSESpecification.SSEEnabled {
		t.Error("no SSE")
	}
	if tb.DeletionProtectionEnabled == nil || !*tb.DeletionProtectionEnabled {
		t.Error("no deletion protection")
	}

	b, err := tpl.Resolved.GetS3BucketWithName("DocumentsBucket")
	if err != nil {
		t.Fatal(err)
	}
	pab := b.PublicAccessBlockConfiguration
	if pab == nil || !deref(pab.BlockPublicAcls) || !deref(pab.BlockPublicPolicy) || !deref(pab.IgnorePublicAcls) || !deref(pab.RestrictPublicBuckets) {
		t.Error("public access not fully blocked")
	}
	if b.BucketEncryption == nil || len(b.BucketEncryption.ServerSideEncryptionConfiguration) == 0 {
		t.Error("no bucket encryption")
	}
	var abort, expire bool
	if lc := b.LifecycleConfiguration; lc != nil {
		for _, r := range lc.Rules {
			if r.AbortIncompleteMultipartUpload != nil && r.AbortIncompleteMultipartUpload.DaysAfterInitiation == 1 {
				abort = true
			}
			if deref(r.ExpirationInDays) == 30 && len(r.TagFilters) == 1 && r.TagFilters[0].Key == "retention" && r.TagFilters[0].Value == "expire" {
				expire = true
			}
		}
	}
	if !abort || !expire {
		t.Errorf("lifecycle: abort incomplete uploads %v, expire retention=expire after 30 days %v", abort, expire)
	}
	// TLS only.
	pol, err := tpl.Resolved.GetS3BucketPolicyWithName("DocumentsBucketPolicy")
	if err != nil {
		t.Fatal(err)
	}
	if !refersTo(tpl.Raw["Resources"].(map[string]any)["DocumentsBucketPolicy"], "DocumentsBucket") {
		t.Error("bucket policy is not on the documents bucket")
	}
	doc, _ := pol.PolicyDocument.(map[string]any)
	stmts, _ := doc["Statement"].([]any)
	tls := false
	for _, s := range stmts {
		sm, _ := s.(map[string]any)
		if sm["Effect"] == "Deny" && mapAt(sm, "Condition", "Bool")["aws:SecureTransport"] == "false" {
			tls = true
		}
	}
	if !tls {
		t.Error("bucket policy does not deny insecure transport")
	}
}

func TestParameterOverride(t *testing.T) {
	l := LocalDefaults()
	l.Parameters = map[string]string{"Env": "prod", "DocumentRetentionDays": "90"}
	l.AccountID = "123456789012"
	tpl, err := Load(filepath.Join(repoRoot, "template.yaml"), l)
	if err != nil {
		t.Fatal(err)
	}
	if tpl.Table.Name != "microcert-prod" || tpl.Bucket.Name != "microcert-documents-123456789012-prod" {
		t.Errorf("names: %q %q", tpl.Table.Name, tpl.Bucket.Name)
	}
	f, _ := tpl.Function("ApiFunction")
	if f.Env["DOCUMENT_RETENTION_DAYS"] != "90" || f.Env["FACE_WEBHOOK_SECRET_PARAM"] != "/microcert/prod/face-webhook-secret" {
		t.Errorf("env: %v", f.Env)
	}
	if _, err := Load(filepath.Join(repoRoot, "template.yaml"), Locals{Parameters: map[string]string{"Nope": "x"}}); err == nil {
		t.Error("an unknown parameter override was accepted")
	}
}

// TestCorsOrigins: the CommaDelimitedList parameter resolves to a list, and
// with no origins !Ref AWS::NoValue removes the CORS configuration entirely.
func TestCorsOrigins(t *testing.T) {
	cors := func(params map[string]string) (api, bucket any) {
		t.Helper()
		l := LocalDefaults()
		for k, v := range params {
			l.Parameters[k] = v
		}
		tpl, err := Load(filepath.Join(repoRoot, "template.yaml"), l)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(tpl.Resolved.Resources["HttpApi"])
		var res map[string]any
		_ = json.Unmarshal(b, &res)
		api = mapAt(res, "Properties")["CorsConfiguration"]
		b, _ = json.Marshal(tpl.Resolved.Resources[tpl.Bucket.LogicalID])
		_ = json.Unmarshal(b, &res)
		return api, mapAt(res, "Properties")["CorsConfiguration"]
	}
	if api, bucket := cors(nil); api != nil || bucket != nil {
		t.Errorf("no origins: CORS %v on the API, %v on the bucket", api, bucket)
	}
	api, bucket := cors(map[string]string{"CorsAllowedOrigins": "https://a.example, https://b.example"})
	want := []any{"https://a.example", "https://b.example"}
	if got := mapAt(api)["AllowOrigins"]; !cmp.Equal(got, want) {
		t.Errorf("API AllowOrigins = %v, want %v", got, want)
	}
	rules, _ := mapAt(bucket)["CorsRules"].([]any)
	if len(rules) != 1 || !cmp.Equal(mapAt(rules[0])["AllowedOrigins"], want) {
		t.Errorf("bucket CORS = %v", bucket)
	}
}

// Two stacks starting at once parse the template at once.
func TestParseConcurrently(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := Parse(data, LocalDefaults()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}
