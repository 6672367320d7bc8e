// Package template reads template.yaml, the one description of the system, for
// the local stack and the tests. It parses the SAM template with goformation,
// applies Globals itself (goformation does not) and resolves the intrinsic
// functions for a given environment (the local one by default), then exposes
// what the local stack needs: functions with their code folder, environment and
// triggers, the table definition and the bucket.
package template

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/cloudformation/s3"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// Locals are the values intrinsic functions resolve against.
type Locals struct {
	AccountID  string
	Region     string
	Partition  string
	StackName  string
	Parameters map[string]string // overrides of the template parameters' defaults
}

// LocalDefaults is what the local stack resolves the template with.
func LocalDefaults() Locals {
	return Locals{
		AccountID:  "000000000000",
		Region:     "us-east-1",
		Partition:  "aws",
		StackName:  "microcert-local",
		Parameters: map[string]string{"Env": "local"},
	}
}

// Template is a parsed and resolved template.
type Template struct {
	// Raw is the template as a JSON tree with intrinsic functions kept in long
	// form ({"Ref": "X"}, {"Fn::Sub": ...}) and Globals not applied: what the lint reads.
	Raw map[string]any
	// Resolved is the goformation view after Globals and intrinsic resolution.
	Resolved *cloudformation.Template

	Functions []Function // sorted by logical id
	Table     Table
	Bucket    Bucket
}

// Function is one AWS::Serverless::Function.
type Function struct {
	LogicalID     string
	Folder        string // functions/<name>, from Metadata.Folder
	BuildMethod   string
	Handler       string
	Runtime       string
	Architectures []string
	Timeout       int
	MemorySize    int
	Env           map[string]string // Globals applied, intrinsics resolved
	Routes        []Route
	S3Events      []S3Event
	Schedules     []Schedule
	// Async invoke configuration (EventInvokeConfig).
	MaximumRetryAttempts     *int
	MaximumEventAgeInSeconds *int
}

// Route is one HttpApi event.
type Route struct {
	Name   string // the event's name in the template
	Method string
	Path   string // with {params}
	Public bool   // Auth.Authorizer NONE
}

// Key is the API Gateway route key, e.g. "POST /v1/cases/{caseId}/submit".
func (r Route) Key() string { return r.Method + " " + r.Path }

// S3Event is one S3 event source.
type S3Event struct {
	Name   string
	Bucket string   // resolved bucket name
	Events []string // e.g. s3:ObjectCreated:*
	Prefix string
	Suffix string
}

// Schedule is one Schedule event source.
type Schedule struct {
	Name       string
	Expression string // cron(...) or rate(...)
	Enabled    bool
}

// Table is the DynamoDB table definition.
type Table struct {
	LogicalID    string
	Name         string
	HashKey      string
	RangeKey     string
	Attributes   map[string]string // name -> S/N/B
	GSIs         []GSI
	TTLAttribute string
}

// GSI is one global secondary index.
type GSI struct {
	Name             string
	HashKey          string
	RangeKey         string
	ProjectionType   string
	NonKeyAttributes []string
}

// Bucket is the documents bucket.
type Bucket struct {
	LogicalID string
	Name      string
}

// Function returns the function with the logical id.
func (t *Template) Function(logicalID string) (Function, bool) {
	for _, f := range t.Functions {
		if f.LogicalID == logicalID {
			return f, true
		}
	}
	return Function{}, false
}

// Routes returns every HttpApi route of every function with the function's id.
func (t *Template) Routes() map[string]Route {
	out := map[string]Route{}
	for _, f := range t.Functions {
		for _, r := range f.Routes {
			out[r.Key()] = r
		}
	}
	return out
}

// Load reads and resolves the template at path.
func Load(path string, l Locals) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, l)
}

// LoadRepo loads <repoRoot>/template.yaml with the local defaults.
func LoadRepo(repoRoot string) (*Template, error) {
	return Load(filepath.Join(repoRoot, "template.yaml"), LocalDefaults())
}

// goformationMu serializes goformation: its YAML tag registry is a global
// map written on every parse, so two stacks starting at once (tests do)
// would write it concurrently.
var goformationMu sync.Mutex

// Parse parses template YAML and resolves it with l. It is safe for
// concurrent use.
func Parse(data []byte, l Locals) (*Template, error) {
	goformationMu.Lock()
	defer goformationMu.Unlock()
	// goformation turns the short-form tags (!Ref, !Sub...) into long form; with
	// NoProcess it leaves them unresolved so that we keep them for the lint and
	// resolve them ourselves with the local values.
	js, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	var work map[string]any
	_ = json.Unmarshal(js, &work) // a deep copy to mutate

	applyGlobals(work)
	r, err := newResolver(work, l)
	if err != nil {
		return nil, err
	}
	resolved, err := r.resolveTree()
	if err != nil {
		return nil, err
	}
	stripUnsupported(resolved)
	out, err := json.Marshal(resolved)
	if err != nil {
		return nil, err
	}
	cf, err := goformation.ParseJSONWithOptions(out, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	t := &Template{Raw: raw, Resolved: cf}
	if err := t.extract(); err != nil {
		return nil, err
	}
	return t, nil
}

// applyGlobals merges Globals.Function into every AWS::Serverless::Function the
// way SAM does: maps merge key by key (the function wins), lists are
// concatenated (globals first), scalars of the function override.
func applyGlobals(tree map[string]any) {
	globals, _ := tree["Globals"].(map[string]any)
	delete(tree, "Globals")
	fnGlobals, _ := globals["Function"].(map[string]any)
	resources, _ := tree["Resources"].(map[string]any)
	for _, res := range resources {
		m, _ := res.(map[string]any)
		if m == nil || m["Type"] != "AWS::Serverless::Function" {
			continue
		}
		props, _ := m["Properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
			m["Properties"] = props
		}
		m["Properties"] = mergeGlobal(deepCopy(fnGlobals), props)
	}
}

func mergeGlobal(global, local any) any {
	gm, gok := global.(map[string]any)
	lm, lok := local.(map[string]any)
	if gok && lok {
		// An intrinsic function is a value, not a map to merge.
		if isIntrinsic(lm) {
			return lm
		}
		for k, v := range lm {
			if gv, ok := gm[k]; ok {
				gm[k] = mergeGlobal(gv, v)
			} else {
				gm[k] = v
			}
		}
		return gm
	}
	gl, gok := global.([]any)
	ll, lok := local.([]any)
	if gok && lok {
		return append(gl, ll...)
	}
	if local == nil {
		return global
	}
	return local
}

// goformation v7.14.9 rejects properties newer than its schema (and names
// SAM's AccessLogSettings AccessLogSetting). They matter to CloudFormation,
// not to the local stack, so the typed view drops them (Raw keeps them).
var unsupportedProperties = map[string][]string{
	"AWS::Serverless::Function": {"LoggingConfig", "RuntimeManagementConfig", "SnapStart", "RecursiveLoop"},
	"AWS::Serverless::HttpApi":  {"AccessLogSettings"},
}

func stripUnsupported(tree map[string]any) {
	resources, _ := tree["Resources"].(map[string]any)
	for _, res := range resources {
		m, _ := res.(map[string]any)
		typ, _ := m["Type"].(string)
		props, _ := m["Properties"].(map[string]any)
		for _, k := range unsupportedProperties[typ] {
			delete(props, k)
		}
		if typ != "AWS::Serverless::Function" {
			continue
		}
		// Environment values are strings to Lambda, whatever YAML made of them.
		env, _ := props["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		for k, v := range vars {
			vars[k] = scalar(v)
		}
	}
}

func deepCopy(v any) map[string]any {
	if v == nil {
		return map[string]any{}
	}
	b, _ := json.Marshal(v)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

func isIntrinsic(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

func (t *Template) extract() error {
	cf := t.Resolved
	fns := cf.GetAllServerlessFunctionResources()
	ids := make([]string, 0, len(fns))
	for id := range fns {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		f, err := extractFunction(id, fns[id])
		if err != nil {
			return err
		}
		t.Functions = append(t.Functions, f)
	}
	tables := cf.GetAllDynamoDBTableResources()
	if len(tables) != 1 {
		return fmt.Errorf("template: want exactly one AWS::DynamoDB::Table, have %d", len(tables))
	}
	for id, tb := range tables {
		t.Table = extractTable(id, tb)
	}
	buckets := cf.GetAllS3BucketResources()
	if len(buckets) != 1 {
		return fmt.Errorf("template: want exactly one AWS::S3::Bucket, have %d", len(buckets))
	}
	for id, b := range buckets {
		t.Bucket = extractBucket(id, b)
	}
	return nil
}

func extractFunction(id string, fn *serverless.Function) (Function, error) {
	f := Function{
		LogicalID:     id,
		Handler:       deref(fn.Handler),
		Runtime:       deref(fn.Runtime),
		Architectures: fn.Architectures,
		Env:           map[string]string{},
	}
	if fn.Timeout != nil {
		f.Timeout = *fn.Timeout
	}
	if fn.MemorySize != nil {
		f.MemorySize = *fn.MemorySize
	}
	md := fn.AWSCloudFormationMetadata
	f.BuildMethod, _ = md["BuildMethod"].(string)
	f.Folder, _ = md["Folder"].(string)
	if fn.Environment != nil {
		for k, v := range fn.Environment.Variables {
			f.Env[k] = v
		}
	}
	if c := fn.EventInvokeConfig; c != nil {
		f.MaximumRetryAttempts = c.MaximumRetryAttempts
		f.MaximumEventAgeInSeconds = c.MaximumEventAgeInSeconds
	}
	names := make([]string, 0, len(fn.Events))
	for n := range fn.Events {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		ev := fn.Events[name]
		p := ev.Properties
		switch ev.Type {
		case "HttpApi":
			if p == nil || p.HttpApiEvent == nil {
				return f, fmt.Errorf("template: %s.%s: unreadable HttpApi event", id, name)
			}
			h := p.HttpApiEvent
			r := Route{Name: name, Method: strings.ToUpper(deref(h.Method)), Path: deref(h.Path)}
			r.Public = h.Auth != nil && deref(h.Auth.Authorizer) == "NONE"
			f.Routes = append(f.Routes, r)
		case "S3":
			if p == nil || p.S3Event == nil {
				return f, fmt.Errorf("template: %s.%s: unreadable S3 event", id, name)
			}
			e := S3Event{Name: name, Bucket: p.S3Event.Bucket}
			if ev := p.S3Event.Events; ev != nil {
				if ev.String != nil {
					e.Events = []string{*ev.String}
				}
				if ev.StringArray != nil {
					e.Events = append(e.Events, *ev.StringArray...)
				}
			}
			if fl := p.S3Event.Filter; fl != nil && fl.S3Key != nil {
				for _, rule := range fl.S3Key.Rules {
					switch strings.ToLower(rule.Name) {
					case "prefix":
						e.Prefix = rule.Value
					case "suffix":
						e.Suffix = rule.Value
					}
				}
			}
			f.S3Events = append(f.S3Events, e)
		case "Schedule":
			if p == nil || p.ScheduleEvent == nil {
				return f, fmt.Errorf("template: %s.%s: unreadable Schedule event", id, name)
			}
			s := Schedule{Name: name, Expression: p.ScheduleEvent.Schedule, Enabled: true}
			if p.ScheduleEvent.Enabled != nil {
				s.Enabled = *p.ScheduleEvent.Enabled
			}
			f.Schedules = append(f.Schedules, s)
		default:
			return f, fmt.Errorf("template: %s.%s: event type %q is not supported locally", id, name, ev.Type)
		}
	}
	return f, nil
}

func extractTable(id string, tb *dynamodb.Table) Table {
	t := Table{LogicalID: id, Name: deref(tb.TableName), Attributes: map[string]string{}}
	for _, a := range tb.AttributeDefinitions {
		t.Attributes[a.AttributeName] = a.AttributeType
	}
	t.HashKey, t.RangeKey = keys(tb.KeySchema)
	for _, g := range tb.GlobalSecondaryIndexes {
		gsi := GSI{Name: g.IndexName}
		gsi.HashKey, gsi.RangeKey = keys(g.KeySchema)
		if g.Projection != nil {
			gsi.ProjectionType = deref(g.Projection.ProjectionType)
			gsi.NonKeyAttributes = g.Projection.NonKeyAttributes
		}
		t.GSIs = append(t.GSIs, gsi)
	}
	if s := tb.TimeToLiveSpecification; s != nil && s.Enabled {
		t.TTLAttribute = deref(s.AttributeName)
	}
	return t
}

func keys(ks []dynamodb.Table_KeySchema) (hash, rng string) {
	for _, k := range ks {
		switch k.KeyType {
		case "HASH":
			hash = k.AttributeName
		case "RANGE":
			rng = k.AttributeName
		}
	}
	return hash, rng
}

func extractBucket(id string, b *s3.Bucket) Bucket {
	return Bucket{LogicalID: id, Name: deref(b.BucketName)}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
