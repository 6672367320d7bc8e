package template

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"microcert/shared/httpapi"
)

// functionCalls lists the AWS actions each function's code calls. Keep it
// honest: when a function starts (or stops) calling an action, change this list
// and the function's policy in template.yaml together; the lint fails when the
// two differ. Destinations' sqs:SendMessage is added by SAM, not listed here.
var functionCalls = map[string][]string{
	// UpdateItem and DeleteItem: idempotency reservations, document and
	// USCC-claim updates, removed members; every versioned entity is a
	// conditional PutItem. BatchGetItem: a user's enterprises, reviewers'
	// reads of enterprise states by key, a disputed profile's open cases.
	// ConditionCheckItem: a download's audit holds only while the caller is
	// a member.
	"ApiFunction": {
		"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
		"dynamodb:ConditionCheckItem", "dynamodb:Query", "dynamodb:TransactWriteItems",
		"s3:PutObject", // presigned POST upload
		"s3:GetObject", // presigned GET download; the calendar document (config/calendar.json)
		"ssm:GetParameters",
		"lambda:InvokeFunction", // hands a refund a request made owed to RefundFunction
	},
	// HeadObject is authorized by s3:GetObject; CopyObject by GetObject on
	// the upload and PutObject (+ PutObjectTagging) on the checked copy. A
	// result is always written with its case in one transaction; a late
	// upload's audit entry alone (PutItem).
	"DocCheckFunction": {
		"s3:GetObject", "s3:PutObjectTagging", "s3:PutObject", "s3:DeleteObject",
		"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:TransactWriteItems",
	},
	// GetItem: re-reading a certification after a conflict; PutItem: a lone
	// certification write (a reminder already sent moves RemindAt on).
	// lambda:InvokeFunction: the fan-out of a day's parts to invocations
	// of the function itself (shared/selfinvoke).
	"ReminderFunction": {
		"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:TransactWriteItems",
		"lambda:InvokeFunction",
	},
	// PutItem: fan-out (each delivery only if absent) and a lone delivery
	// write; Query: the outbox shards, members, endpoints; transactions:
	// a dead webhook delivery with its endpoint and the admins' notice.
	"DispatcherFunction": {
		"dynamodb:PutItem", "dynamodb:Query", "dynamodb:TransactWriteItems", "ssm:GetParameters",
	},
	// GetItem: re-reading a certification after a conflict; PutItem: a lone
	// case write (e.g. only a deposit expired). UpdateItem: the TTL of an
	// expired case's documents, in the case's transaction.
	"ExpiryFunction": {
		"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:TransactWriteItems",
		"s3:PutObjectTagging", // marks released documents retention=expire
		"s3:GetObject",        // the calendar document (config/calendar.json)
		"lambda:InvokeFunction",
	},
	// GetItem: the refund; PutItem: a lone refund write (no answer: it
	// backs off); TransactWriteItems: a result with its ledger entry and
	// notification; the payment provider's key signs its requests.
	"RefundFunction": {
		"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:TransactWriteItems",
		"ssm:GetParameters",
	},
	// Query: a day's ledger and payouts; PutItem: each discrepancy, once.
	"ReconcileFunction": {
		"dynamodb:PutItem", "dynamodb:Query",
		"s3:GetObject", // the statements
	},
}

const repoRoot = "../.."

func lintOptions() LintOptions {
	routes := map[string]bool{}
	for _, r := range httpapi.Routes() {
		routes[r.Key()] = r.Access == httpapi.Public
	}
	return LintOptions{RepoRoot: repoRoot, Calls: functionCalls, UploadPrefix: "uploads/", APIRoutes: routes}
}

func TestLintTemplate(t *testing.T) {
	tpl, err := LoadRepo(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range Lint(tpl, lintOptions()) {
		t.Error(e)
	}
	for id := range functionCalls {
		if _, ok := tpl.Function(id); !ok {
			t.Errorf("functionCalls names %s, which the template lacks", id)
		}
	}
	for _, f := range tpl.Functions {
		if _, ok := functionCalls[f.LogicalID]; !ok {
			t.Errorf("%s: add the actions it calls to functionCalls", f.LogicalID)
		}
	}
}

// TestLintCatches breaks the real template in the ways the lint exists for and
// checks that each break is reported.
func TestLintCatches(t *testing.T) {
	base, err := readRepoTemplate()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		replace [2]string // old, new in template.yaml
		want    string
	}{
		{
			name:    "circular bucket reference in a policy",
			replace: [2]string{"Resource: !Sub arn:${AWS::Partition}:s3:::microcert-documents-${AWS::AccountId}-${Env}/checked/*\n            - Sid: Table", "Resource: !Sub ${DocumentsBucket.Arn}/checked/*\n            - Sid: Table"},
			want:    "circular dependency",
		},
		{
			name:    "circular bucket reference in Globals",
			replace: [2]string{"BUCKET_NAME: !Sub microcert-documents-${AWS::AccountId}-${Env}", "BUCKET_NAME: !Ref DocumentsBucket"},
			want:    "Globals.Function refers to bucket DocumentsBucket",
		},
		{
			name:    "wildcard action",
			replace: [2]string{"Action: ssm:GetParameters", "Action: ssm:*"},
			want:    `wildcard action "ssm:*"`,
		},
		{
			name:    "action the code does not call",
			replace: [2]string{"                - dynamodb:DeleteItem\n", "                - dynamodb:DeleteItem\n                - dynamodb:Scan\n"},
			want:    "grants dynamodb:Scan, which the code does not call",
		},
		{
			name:    "missing action",
			replace: [2]string{"              Action: s3:PutObjectTagging\n", "              Action: s3:GetObject\n"},
			want:    "ExpiryFunction: calls s3:PutObjectTagging but no policy grants it",
		},
		{
			name:    "policy template",
			replace: [2]string{"      Policies:\n        - Version: \"2012-10-17\"\n          Statement:\n            - Sid: Table\n              Effect: Allow\n              Action:\n                - dynamodb:GetItem\n                - dynamodb:BatchGetItem", "      Policies:\n        - DynamoDBCrudPolicy: { TableName: !Ref Table }\n        - Version: \"2012-10-17\"\n          Statement:\n            - Sid: Table\n              Effect: Allow\n              Action:\n                - dynamodb:GetItem\n                - dynamodb:BatchGetItem"},
			want:    "is not an inline statement list",
		},
		{
			name:    "route without authorizer",
			replace: [2]string{"Path: /v1/review/queue }", "Path: /v1/review/queue, Auth: { Authorizer: NONE } }"},
			want:    "GET /v1/review/queue has no authorizer",
		},
		{
			name:    "callback behind the authorizer",
			replace: [2]string{"Path: /v1/callbacks/face, Auth: { Authorizer: NONE } }", "Path: /v1/callbacks/face }"},
			want:    "POST /v1/callbacks/face must be open",
		},
		{
			name:    "route the API does not serve",
			replace: [2]string{"Path: /v1/review/queue }", "Path: /v1/review/queues }"},
			want:    "GET /v1/review/queues is not in the API's route table",
		},
		{
			name:    "route the template lacks",
			replace: [2]string{"Path: /v1/review/queue }", "Path: /v1/review/queues }"},
			want:    "the API serves GET /v1/review/queue, which the template does not declare",
		},
		{
			name:    "sandbox route",
			replace: [2]string{"Path: /v1/health, Auth: { Authorizer: NONE } }", "Path: /_sandbox/face, Auth: { Authorizer: NONE } }"},
			want:    "provider sandbox",
		},
		{
			name:    "filter prefix off the key scheme",
			replace: [2]string{"Value: uploads/", "Value: upload/"},
			want:    `prefix "upload/" does not match`,
		},
		{
			name:    "unbounded retries",
			replace: [2]string{"        MaximumRetryAttempts: 2\n", ""},
			want:    "must bound retries",
		},
		{
			name:    "no makefile build",
			replace: [2]string{"      BuildMethod: makefile\n      Folder: functions/expiry", "      BuildMethod: go1.x\n      Folder: functions/expiry"},
			want:    `ExpiryFunction: Metadata.BuildMethod = "go1.x"`,
		},
		{
			name:    "function without code",
			replace: [2]string{"Folder: functions/expiry", "Folder: functions/nowhere"},
			want:    "functions/nowhere/main.go is missing",
		},
		{
			name:    "stateful resource not retained",
			replace: [2]string{"    # Every message is an upload nobody checked: keep them through a stack\n    # deletion or a replacement.\n    DeletionPolicy: Retain\n", ""},
			want:    "DocCheckDeadLetterQueue (AWS::SQS::Queue) holds data: DeletionPolicy must be Retain",
		},
		{
			name:    "user pool replaced without retention",
			replace: [2]string{"    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      UserPoolName:", "    DeletionPolicy: Retain\n    UpdateReplacePolicy: Delete\n    Properties:\n      UserPoolName:"},
			want:    "UserPool (AWS::Cognito::UserPool) holds data: UpdateReplacePolicy must be Retain",
		},
		{
			name:    "function logging to the default group",
			replace: [2]string{"      LoggingConfig:\n        LogGroup: !Ref ReminderFunctionLogGroup\n", ""},
			want:    "ReminderFunction: LoggingConfig.LogGroup must be !Ref a log group",
		},
		{
			name:    "log group without the retention parameter",
			replace: [2]string{"  ApiAccessLogGroup:\n    Type: AWS::Logs::LogGroup\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      RetentionInDays: !Ref LogRetentionDays", "  ApiAccessLogGroup:\n    Type: AWS::Logs::LogGroup\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      RetentionInDays: 3653"},
			want:    "ApiAccessLogGroup: RetentionInDays must be !Ref LogRetentionDays",
		},
		{
			name:    "alarm nobody hears",
			replace: [2]string{"      ExtendedStatistic: p99\n      Period: 300\n      EvaluationPeriods: 3\n      Threshold: !Ref ApiLatencyP99Ms\n      ComparisonOperator: GreaterThanThreshold\n      TreatMissingData: notBreaching\n      AlarmActions: [!Ref AlarmTopic]", "      ExtendedStatistic: p99\n      Period: 300\n      EvaluationPeriods: 3\n      Threshold: !Ref ApiLatencyP99Ms\n      ComparisonOperator: GreaterThanThreshold\n      TreatMissingData: notBreaching\n      AlarmActions: []"},
			want:    "ApiLatencyAlarm: AlarmActions must notify the alarm topic",
		},
		{
			name:    "function without a throttle alarm",
			replace: [2]string{"      MetricName: Throttles\n      Dimensions: [{ Name: FunctionName, Value: !Ref DocCheckFunction }]", "      MetricName: Throttles\n      Dimensions: [{ Name: FunctionName, Value: !Ref ApiFunction }]"},
			want:    "DocCheckFunction: no alarm on AWS/Lambda Throttles",
		},
		{
			name:    "job without a missed-run alarm",
			replace: [2]string{"              MetricName: read\n              Dimensions: [{ Name: FunctionName, Value: !Ref ExpiryFunction }]", "              MetricName: read\n              Dimensions: [{ Name: FunctionName, Value: !Ref ReminderFunction }]"},
			want:    "ExpiryFunction: scheduled, so it needs an alarm on a missing run",
		},
		{
			name:    "fixed throttling",
			replace: [2]string{"ThrottlingRateLimit: !Ref ApiThrottlingRateLimit", "ThrottlingRateLimit: 100"},
			want:    "throttling must come from the ApiThrottling* parameters",
		},
		{
			name:    "x86 globals",
			replace: [2]string{"Architectures: [arm64]", "Architectures: [x86_64]"},
			want:    "Architectures",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(base, tt.replace[0]) {
				t.Fatalf("template.yaml no longer contains %q: update the test", tt.replace[0])
			}
			tpl, err := Parse([]byte(strings.Replace(base, tt.replace[0], tt.replace[1], 1)), LocalDefaults())
			if err != nil {
				t.Fatal(err)
			}
			errs := Lint(tpl, lintOptions())
			for _, e := range errs {
				if strings.Contains(e.Error(), tt.want) {
					return
				}
			}
			t.Errorf("lint did not report %q; it said %v", tt.want, errs)
		})
	}
}

func TestMakeTarget(t *testing.T) {
	recipe, ok := makeTarget(repoRoot, "build-ApiFunction")
	if !ok || !strings.Contains(recipe, "./functions/api") {
		t.Fatalf("build-ApiFunction recipe = %q, %v", recipe, ok)
	}
	if _, ok := makeTarget(repoRoot, "build-NoSuchFunction"); ok {
		t.Fatal("found a target that does not exist")
	}
}

func TestRefersTo(t *testing.T) {
	tests := []struct {
		json string
		want bool
	}{
		{`{"Ref":"B"}`, true},
		{`{"Ref":"BB"}`, false},
		{`{"Fn::GetAtt":["B","Arn"]}`, true},
		{`{"Fn::GetAtt":"B.Arn"}`, true},
		{`{"Fn::Sub":"${B.Arn}/*"}`, true},
		{`{"Fn::Sub":"${B}"}`, true},
		{`{"Fn::Sub":"${Bucket}"}`, false},
		{`{"Fn::Sub":["${X}",{"X":{"Ref":"B"}}]}`, true},
		{`{"a":[{"b":{"Ref":"B"}}]}`, true},
		{`{"Fn::Sub":"microcert-documents-${AWS::AccountId}"}`, false},
	}
	for _, tt := range tests {
		var v any
		if err := json.Unmarshal([]byte(tt.json), &v); err != nil {
			t.Fatal(err)
		}
		if got := refersTo(v, "B"); got != tt.want {
			t.Errorf("refersTo(%s, B) = %v, want %v", tt.json, got, tt.want)
		}
	}
}

// TestSamconfig: dev and prod deploy with their own Env (resource names).
func TestSamconfig(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, env := range []string{"dev", "prod"} {
		i := strings.Index(s, "["+env+".deploy.parameters]")
		if i < 0 {
			t.Errorf("samconfig.toml has no %s environment", env)
			continue
		}
		section, _, _ := strings.Cut(s[i+1:], "\n[")
		if !strings.Contains(section, `"Env=`+env) {
			t.Errorf("%s does not deploy with Env=%s", env, env)
		}
		if !strings.Contains(s, "["+env+".build.parameters]") {
			t.Errorf("%s has no build parameters", env)
		}
	}
}
