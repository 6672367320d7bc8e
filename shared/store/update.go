package store

import (
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// attrNamesCache holds the top-level attribute names of each item struct.
var attrNamesCache sync.Map // reflect.Type -> []string

// attrNames lists the dynamodbav names of the top-level fields of the item
// struct v (or pointer to it).
func attrNames(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if got, ok := attrNamesCache.Load(t); ok {
		return got.([]string)
	}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("dynamodbav"); ok {
			n, _, _ := strings.Cut(tag, ",")
			if n == "-" {
				continue
			}
			if n != "" {
				name = n
			}
		}
		names = append(names, name)
	}
	sort.Strings(names)
	attrNamesCache.Store(t, names)
	return names
}

// marshalItem encodes an item struct.
func marshalItem(v any) (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, internal("marshal %T: %w", v, err)
	}
	return av, nil
}

// replaceUpdate is the update that makes a stored item equal to item (the
// struct v marshalled): SET every attribute item has, except the key and
// those in skip, and REMOVE every attribute the struct declares that item
// lacks (sparse index keys of an index the item leaves, cleared optional
// fields), except those in keep. Used for versioned updates, so a write
// never needs to know which attributes were there before.
func replaceUpdate(v any, item map[string]types.AttributeValue, skip, keep []string) expression.UpdateBuilder {
	var ub expression.UpdateBuilder
	excluded := map[string]bool{attrPK: true, attrSK: true}
	for _, n := range skip {
		excluded[n] = true
	}
	kept := map[string]bool{}
	for _, n := range keep {
		kept[n] = true
	}
	names := make([]string, 0, len(item))
	for n := range item {
		names = append(names, n)
	}
	sort.Strings(names) // stable expressions, easier to read in traces
	for _, n := range names {
		if excluded[n] {
			continue
		}
		ub = ub.Set(expression.Name(n), expression.Value(item[n]))
	}
	for _, n := range attrNames(v) {
		if _, ok := item[n]; ok || excluded[n] || kept[n] {
			continue
		}
		ub = ub.Remove(expression.Name(n))
	}
	return ub
}
