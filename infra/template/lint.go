package template

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// There is no SAM CLI or cfn-lint here, so Lint checks the traps of this
// template that would otherwise surface only at deploy time or in production.

// LintOptions says what the lint compares the template with.
type LintOptions struct {
	// RepoRoot holds the Makefile and functions/ (checked when not empty).
	RepoRoot string
	// Calls lists, per function, the IAM actions its code calls. A policy must
	// grant exactly these (SAM adds the destination's sqs:SendMessage itself).
	Calls map[string][]string
	// UploadPrefix is the key prefix of uploads (uploads/{caseId}/{documentId}).
	UploadPrefix string
	// APIRoutes is the API's route table: route key -> public (no token),
	// from httpapi.Routes. The template must declare exactly these routes,
	// with the JWT authorizer on every route that is not public.
	APIRoutes map[string]bool
}

// Lint returns every problem found in the template (nil when clean).
func Lint(t *Template, o LintOptions) []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	resources, _ := t.Raw["Resources"].(map[string]any)
	globals, _ := t.Raw["Globals"].(map[string]any)
	fnGlobals, _ := globals["Function"].(map[string]any)

	// Globals every function needs (the runtime Lambda runs, tracing).
	want := map[string]any{"Runtime": "provided.al2023", "Handler": "bootstrap", "Tracing": "Active"}
	for k, v := range want {
		if fnGlobals[k] != v {
			add("Globals.Function.%s = %v, want %v", k, fnGlobals[k], v)
		}
	}
	if a, _ := fnGlobals["Architectures"].([]any); len(a) != 1 || a[0] != "arm64" {
		add("Globals.Function.Architectures = %v, want [arm64]", fnGlobals["Architectures"])
	}
	genv := mapAt(fnGlobals, "Environment", "Variables")
	for _, k := range []string{"TABLE_NAME", "BUCKET_NAME"} {
		if _, ok := genv[k]; !ok {
			add("Globals.Function.Environment.Variables lacks %s", k)
		}
	}

	// Buckets that notify a function: neither that function nor the Globals may
	// reference them, or CloudFormation sees a circular dependency.
	notifying := map[string][]string{} // bucket -> functions
	for _, id := range sortedKeys(resources) {
		res, _ := resources[id].(map[string]any)
		if res["Type"] != "AWS::Serverless::Function" {
			continue
		}
		for _, ev := range mapAt(res, "Properties", "Events") {
			em, _ := ev.(map[string]any)
			if em["Type"] != "S3" {
				continue
			}
			if b, ok := mapAt(em, "Properties")["Bucket"].(map[string]any); ok {
				if name, ok := b["Ref"].(string); ok {
					notifying[name] = append(notifying[name], id)
				}
			}
		}
	}
	for bucket, fns := range notifying {
		if refersTo(fnGlobals, bucket) {
			add("Globals.Function refers to bucket %s, which notifies %v: circular dependency (name it with !Sub)", bucket, fns)
		}
		for _, fn := range fns {
			props := mapAt(resources[fn], "Properties")
			for k, v := range props {
				if k != "Events" && refersTo(v, bucket) {
					add("%s.%s refers to bucket %s, which notifies it: circular dependency (name it with !Sub)", fn, k, bucket)
				}
			}
		}
	}

	for _, f := range t.Functions {
		id := f.LogicalID
		if f.BuildMethod != "makefile" {
			add("%s: Metadata.BuildMethod = %q, want makefile", id, f.BuildMethod)
		}
		if !strings.HasPrefix(f.Folder, "functions/") {
			add("%s: Metadata.Folder = %q, want functions/<name>", id, f.Folder)
		}
		if o.RepoRoot != "" {
			if _, err := os.Stat(filepath.Join(o.RepoRoot, f.Folder, "main.go")); err != nil {
				add("%s: %s/main.go is missing", id, f.Folder)
			}
			if recipe, ok := makeTarget(o.RepoRoot, "build-"+id); !ok {
				add("%s: the Makefile has no build-%s target (sam build needs it)", id, id)
			} else if !strings.Contains(recipe, "./"+f.Folder) {
				add("%s: build-%s does not build ./%s", id, id, f.Folder)
			}
		}
		errs = append(errs, lintPolicies(id, mapAt(resources[id], "Properties"), o.Calls[id])...)

		for _, r := range f.Routes {
			public, served := o.APIRoutes[r.Key()]
			switch {
			case strings.HasPrefix(r.Path, "/_sandbox"):
				add("%s.%s: %s is the local provider sandbox and must never be deployed", id, r.Name, r.Key())
			case o.APIRoutes == nil:
			case !served:
				add("%s.%s: %s is not in the API's route table", id, r.Name, r.Key())
			case r.Public && !public:
				add("%s.%s: %s has no authorizer", id, r.Name, r.Key())
			case !r.Public && public:
				add("%s.%s: %s must be open (Auth.Authorizer: NONE)", id, r.Name, r.Key())
			}
		}
		for _, e := range f.S3Events {
			if o.UploadPrefix != "" && e.Prefix != o.UploadPrefix {
				add("%s.%s: S3 filter prefix %q does not match the upload key scheme %q", id, e.Name, e.Prefix, o.UploadPrefix)
			}
			if !slices.Contains(e.Events, "s3:ObjectCreated:*") {
				add("%s.%s: S3 events %v lack s3:ObjectCreated:*", id, e.Name, e.Events)
			}
			if f.MaximumRetryAttempts == nil || f.MaximumEventAgeInSeconds == nil {
				add("%s: S3-triggered, so EventInvokeConfig must bound retries and event age", id)
			}
			if mapAt(resources[id], "Properties", "EventInvokeConfig", "DestinationConfig", "OnFailure")["Type"] != "SQS" {
				add("%s: S3-triggered, so failed events need an SQS OnFailure destination", id)
			}
		}
	}

	declared := t.Routes()
	for _, key := range sortedKeys(o.APIRoutes) {
		if _, ok := declared[key]; !ok {
			add("the API serves %s, which the template does not declare", key)
		}
	}
	errs = append(errs, lintOperations(resources)...)

	// The HTTP API: JWT by default.
	for id, r := range resources {
		res, _ := r.(map[string]any)
		if res["Type"] == "AWS::Serverless::HttpApi" {
			if mapAt(res, "Properties", "Auth")["DefaultAuthorizer"] == nil {
				add("%s: no DefaultAuthorizer", id)
			}
		}
	}
	return errs
}

// PolicyActions is every action the function's inline policy statements
// grant (what lintPolicies holds to the code's calls).
func (t *Template) PolicyActions(function string) map[string]bool {
	resources, _ := t.Raw["Resources"].(map[string]any)
	out := map[string]bool{}
	pols, _ := mapAt(resources[function], "Properties")["Policies"].([]any)
	for _, p := range pols {
		pm, _ := p.(map[string]any)
		stmts, _ := pm["Statement"].([]any)
		for _, st := range stmts {
			sm, _ := st.(map[string]any)
			for _, a := range stringsOf(sm["Action"]) {
				out[a] = true
			}
		}
	}
	return out
}

// lintPolicies checks that the function's inline policies grant exactly the
// actions its code calls, with no wildcard.
func lintPolicies(id string, props map[string]any, calls []string) []error {
	var errs []error
	granted := map[string]bool{}
	pols, _ := props["Policies"].([]any)
	for _, p := range pols {
		pm, ok := p.(map[string]any)
		if !ok || pm["Statement"] == nil {
			// SAM policy templates (S3CrudPolicy...) and managed policies grant
			// more than the code calls, often with wildcards.
			errs = append(errs, fmt.Errorf("%s: policy %v is not an inline statement list", id, p))
			continue
		}
		stmts, _ := pm["Statement"].([]any)
		for _, s := range stmts {
			sm, _ := s.(map[string]any)
			for _, a := range stringsOf(sm["Action"]) {
				if strings.Contains(a, "*") {
					errs = append(errs, fmt.Errorf("%s: wildcard action %q", id, a))
				}
				granted[a] = true
			}
			if sm["NotAction"] != nil {
				errs = append(errs, fmt.Errorf("%s: NotAction grants everything else", id))
			}
			for _, r := range stringsOf(sm["Resource"]) {
				if r == "*" {
					errs = append(errs, fmt.Errorf("%s: Resource \"*\"", id))
				}
			}
		}
	}
	want := map[string]bool{}
	for _, a := range calls {
		want[a] = true
		if !granted[a] {
			errs = append(errs, fmt.Errorf("%s: calls %s but no policy grants it", id, a))
		}
	}
	for _, a := range sortedKeys(granted) {
		if !want[a] {
			errs = append(errs, fmt.Errorf("%s: policy grants %s, which the code does not call", id, a))
		}
	}
	return errs
}

// refersTo reports whether v mentions the logical id through Ref, GetAtt or Sub.
func refersTo(v any, id string) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch k {
			case "Ref":
				if e == id {
					return true
				}
			case "Fn::GetAtt":
				parts := stringsOf(e)
				if len(parts) > 0 && strings.SplitN(parts[0], ".", 2)[0] == id {
					return true
				}
			case "Fn::Sub":
				text := e
				if l, ok := e.([]any); ok && len(l) > 0 {
					text = l[0]
				}
				if s, ok := text.(string); ok && regexp.MustCompile(`\$\{`+regexp.QuoteMeta(id)+`[.}]`).MatchString(s) {
					return true
				}
			}
			if refersTo(e, id) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if refersTo(e, id) {
				return true
			}
		}
	}
	return false
}

// makeTarget returns the recipe of a Makefile target (its lines up to the next
// target), read as text: enough to check what a target builds.
func makeTarget(repoRoot, target string) (string, bool) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		return "", false
	}
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		name, rest, ok := strings.Cut(l, ":")
		if !ok || strings.TrimSpace(name) != target || strings.HasPrefix(rest, "=") {
			continue
		}
		recipe := []string{rest}
		for _, next := range lines[i+1:] {
			if !strings.HasPrefix(next, "\t") {
				break
			}
			recipe = append(recipe, next)
		}
		return strings.Join(recipe, "\n"), true
	}
	return "", false
}

func mapAt(v any, path ...string) map[string]any {
	m, _ := v.(map[string]any)
	for _, p := range path {
		m, _ = m[p].(map[string]any)
	}
	return m
}

func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			} else if m, ok := e.(map[string]any); ok && isIntrinsic(m) {
				out = append(out, "<intrinsic>")
			}
		}
		return out
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
