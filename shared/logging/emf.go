package logging

import (
	"encoding/json"
	"io"
	"time"
)

// Namespace is the CloudWatch namespace of every metric microcert prints.
const Namespace = "microcert"

// Metric is one value of an EMF line: its name, CloudWatch unit (Count,
// Milliseconds, None) and value.
type Metric struct {
	Name  string
	Unit  string
	Value any
}

// WriteEMF prints one CloudWatch Embedded Metric Format line: the metrics
// under Namespace, aggregated by each dimension set of dims (lists of
// property names), and props (the dimensions' values and any context)
// beside them. CloudWatch Logs turns the line into metric data points.
func WriteEMF(w io.Writer, props map[string]any, dims [][]string, metrics []Metric) error {
	doc := make(map[string]any, len(props)+len(metrics)+1)
	for k, v := range props {
		doc[k] = v
	}
	defs := make([]map[string]string, 0, len(metrics))
	for _, m := range metrics {
		doc[m.Name] = m.Value
		defs = append(defs, map[string]string{"Name": m.Name, "Unit": m.Unit})
	}
	doc["_aws"] = map[string]any{
		"Timestamp": time.Now().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": dims,
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
