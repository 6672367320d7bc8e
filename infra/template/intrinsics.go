package template

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// resolver evaluates the intrinsic functions the template uses against fixed
// local values. It knows only what a local stack can answer: parameters,
// pseudo parameters, conditions, and the names of the table, the bucket and
// the queue. Other references resolve to placeholders that name the resource.
type resolver struct {
	tree       map[string]any
	l          Locals
	params     map[string]string
	numeric    map[string]bool
	lists      map[string]bool // CommaDelimitedList parameters
	conditions map[string]bool
	resources  map[string]map[string]any
	refCache   map[string]string
	inProgress map[string]bool
}

func newResolver(tree map[string]any, l Locals) (*resolver, error) {
	r := &resolver{
		tree:       tree,
		l:          l,
		params:     map[string]string{},
		numeric:    map[string]bool{},
		lists:      map[string]bool{},
		conditions: map[string]bool{},
		resources:  map[string]map[string]any{},
		refCache:   map[string]string{},
		inProgress: map[string]bool{},
	}
	params, _ := tree["Parameters"].(map[string]any)
	for name, p := range params {
		pm, _ := p.(map[string]any)
		r.numeric[name] = pm["Type"] == "Number"
		r.lists[name] = pm["Type"] == "CommaDelimitedList"
		if d, ok := pm["Default"]; ok {
			r.params[name] = scalar(d)
		} else {
			r.params[name] = ""
		}
	}
	for k, v := range l.Parameters {
		if _, ok := params[k]; !ok {
			return nil, fmt.Errorf("template: parameter override %q: no such parameter", k)
		}
		r.params[k] = v
	}
	res, _ := tree["Resources"].(map[string]any)
	for id, v := range res {
		if m, ok := v.(map[string]any); ok {
			r.resources[id] = m
		}
	}
	conds, _ := tree["Conditions"].(map[string]any)
	// Conditions may refer to each other: evaluate until fixed, bounded by their number.
	for range len(conds) + 1 {
		for name, expr := range conds {
			v, err := r.eval(expr)
			if err != nil {
				continue
			}
			b, ok := v.(bool)
			if !ok {
				return nil, fmt.Errorf("template: condition %s is not a boolean", name)
			}
			r.conditions[name] = b
		}
	}
	for name := range conds {
		if _, ok := r.conditions[name]; !ok {
			return nil, fmt.Errorf("template: condition %s cannot be evaluated", name)
		}
	}
	return r, nil
}

func (r *resolver) resolveTree() (map[string]any, error) {
	out := map[string]any{}
	for k, v := range r.tree {
		if k == "Conditions" || k == "Parameters" {
			out[k] = v
			continue
		}
		rv, err := r.eval(v)
		if err != nil {
			return nil, fmt.Errorf("template: %s: %w", k, err)
		}
		out[k] = rv
	}
	return out, nil
}

func (r *resolver) eval(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if isIntrinsic(x) {
			for name, arg := range x {
				return r.intrinsic(name, arg)
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			rv, err := r.eval(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if rv != noValue {
				out[k] = rv
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			rv, err := r.eval(e)
			if err != nil {
				return nil, err
			}
			if rv != noValue {
				out = append(out, rv)
			}
		}
		return out, nil
	default:
		return v, nil
	}
}

func (r *resolver) intrinsic(name string, arg any) (any, error) {
	switch name {
	case "Ref":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Ref: want a name")
		}
		if s == "AWS::NoValue" {
			return noValue, nil
		}
		v, err := r.ref(s)
		if err != nil {
			return nil, err
		}
		if r.lists[s] {
			items := []any{}
			for _, e := range strings.Split(v, ",") {
				items = append(items, strings.TrimSpace(e))
			}
			return items, nil
		}
		// CloudFormation hands a Number parameter to numeric properties as a number.
		if r.numeric[s] {
			var f float64
			if _, err := fmt.Sscan(v, &f); err == nil {
				return f, nil
			}
		}
		return v, nil
	case "Fn::GetAtt":
		parts, err := r.getAttParts(arg)
		if err != nil {
			return nil, err
		}
		return r.getAtt(parts[0], parts[1])
	case "Fn::Sub":
		return r.sub(arg)
	case "Fn::If":
		l, ok := arg.([]any)
		if !ok || len(l) != 3 {
			return nil, fmt.Errorf("Fn::If: want [condition, then, else]")
		}
		c, _ := l[0].(string)
		b, ok := r.conditions[c]
		if !ok {
			return nil, fmt.Errorf("Fn::If: unknown condition %q", c)
		}
		if b {
			return r.eval(l[1])
		}
		return r.eval(l[2])
	case "Condition":
		c, _ := arg.(string)
		b, ok := r.conditions[c]
		if !ok {
			return nil, fmt.Errorf("unknown condition %q", c)
		}
		return b, nil
	case "Fn::Equals":
		l, err := r.evalList(arg, 2)
		if err != nil {
			return nil, err
		}
		return scalar(l[0]) == scalar(l[1]), nil
	case "Fn::Not":
		l, err := r.evalList(arg, 1)
		if err != nil {
			return nil, err
		}
		b, ok := l[0].(bool)
		if !ok {
			return nil, fmt.Errorf("Fn::Not: want a boolean")
		}
		return !b, nil
	case "Fn::And", "Fn::Or":
		l, err := r.evalList(arg, -1)
		if err != nil {
			return nil, err
		}
		acc := name == "Fn::And"
		for _, e := range l {
			b, ok := e.(bool)
			if !ok {
				return nil, fmt.Errorf("%s: want booleans", name)
			}
			if name == "Fn::And" {
				acc = acc && b
			} else {
				acc = acc || b
			}
		}
		return acc, nil
	case "Fn::Join":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, fmt.Errorf("Fn::Join: want [sep, list]")
		}
		sep, _ := l[0].(string)
		items, err := r.eval(l[1])
		if err != nil {
			return nil, err
		}
		il, _ := items.([]any)
		parts := make([]string, 0, len(il))
		for _, e := range il {
			parts = append(parts, scalar(e))
		}
		return strings.Join(parts, sep), nil
	default:
		return nil, fmt.Errorf("%s is not supported by the local resolver", name)
	}
}

func (r *resolver) evalList(arg any, n int) ([]any, error) {
	l, ok := arg.([]any)
	if !ok || (n >= 0 && len(l) != n) {
		return nil, fmt.Errorf("want a list of %d", n)
	}
	out := make([]any, 0, len(l))
	for _, e := range l {
		v, err := r.eval(e)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (r *resolver) getAttParts(arg any) ([2]string, error) {
	switch x := arg.(type) {
	case string:
		id, attr, ok := strings.Cut(x, ".")
		if ok {
			return [2]string{id, attr}, nil
		}
	case []any:
		if len(x) == 2 {
			return [2]string{scalar(x[0]), scalar(x[1])}, nil
		}
	}
	return [2]string{}, fmt.Errorf("Fn::GetAtt: want Resource.Attribute")
}

func (r *resolver) pseudo(name string) (string, bool) {
	switch name {
	case "AWS::AccountId":
		return r.l.AccountID, true
	case "AWS::Region":
		return r.l.Region, true
	case "AWS::Partition":
		return r.l.Partition, true
	case "AWS::StackName":
		return r.l.StackName, true
	case "AWS::URLSuffix":
		return "amazonaws.com", true
	case "AWS::NoValue":
		return "", true
	}
	return "", false
}

// ref resolves !Ref: a parameter's value, a pseudo parameter, or the physical
// name of a resource (the name property of tables, buckets and queues,
// otherwise the logical id itself as a stand-in).
func (r *resolver) ref(name string) (string, error) {
	if v, ok := r.pseudo(name); ok {
		return v, nil
	}
	if v, ok := r.params[name]; ok {
		return v, nil
	}
	if v, ok := r.refCache[name]; ok {
		return v, nil
	}
	res, ok := r.resources[name]
	if !ok {
		return "", fmt.Errorf("Ref: unknown name %q", name)
	}
	if r.inProgress[name] {
		return "", fmt.Errorf("Ref: %q refers to itself", name)
	}
	r.inProgress[name] = true
	defer delete(r.inProgress, name)
	props, _ := res["Properties"].(map[string]any)
	v := name
	for _, p := range []string{"TableName", "BucketName", "QueueName"} {
		if n, ok := props[p]; ok {
			rv, err := r.eval(n)
			if err != nil {
				return "", err
			}
			v = scalar(rv)
			break
		}
	}
	r.refCache[name] = v
	return v, nil
}

func (r *resolver) getAtt(id, attr string) (string, error) {
	res, ok := r.resources[id]
	if !ok {
		return "", fmt.Errorf("Fn::GetAtt: unknown resource %q", id)
	}
	name, err := r.ref(id)
	if err != nil {
		return "", err
	}
	if attr != "Arn" {
		return name + "." + attr, nil
	}
	p, reg, acct := r.l.Partition, r.l.Region, r.l.AccountID
	switch res["Type"] {
	case "AWS::DynamoDB::Table":
		return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", p, reg, acct, name), nil
	case "AWS::S3::Bucket":
		return fmt.Sprintf("arn:%s:s3:::%s", p, name), nil
	case "AWS::SQS::Queue":
		return fmt.Sprintf("arn:%s:sqs:%s:%s:%s", p, reg, acct, name), nil
	}
	return fmt.Sprintf("arn:%s:local:%s:%s:%s", p, reg, acct, name), nil
}

// noValue is what !Ref AWS::NoValue evaluates to: the property (or list
// element) holding it is removed, as CloudFormation does.
var noValue = &struct{ name string }{"AWS::NoValue"}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

func (r *resolver) sub(arg any) (string, error) {
	var (
		text string
		vars = map[string]string{}
	)
	switch x := arg.(type) {
	case string:
		text = x
	case []any:
		if len(x) != 2 {
			return "", fmt.Errorf("Fn::Sub: want [text, vars]")
		}
		text, _ = x[0].(string)
		vm, _ := x[1].(map[string]any)
		for k, v := range vm {
			rv, err := r.eval(v)
			if err != nil {
				return "", err
			}
			vars[k] = scalar(rv)
		}
	default:
		return "", fmt.Errorf("Fn::Sub: want a string")
	}
	var firstErr error
	out := subVar.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := vars[name]; ok {
			return v
		}
		var (
			v   string
			err error
		)
		if id, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
			v, err = r.getAtt(id, attr)
		} else {
			v, err = r.ref(name)
		}
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("Fn::Sub %q: %w", text, err)
		}
		return v
	})
	// ${!Literal} stands for the literal ${Literal}.
	out = strings.ReplaceAll(out, "${!", "${")
	return out, firstErr
}

func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%f", x), "0"), ".")
	case bool:
		if x {
			return "true"
		}
		return "false"
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, scalar(e))
		}
		return strings.Join(parts, ",")
	default:
		keys := []string{}
		if m, ok := v.(map[string]any); ok {
			for k := range m {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		return fmt.Sprint(keys)
	}
}
