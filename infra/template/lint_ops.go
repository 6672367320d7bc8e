package template

import (
	"fmt"
	"slices"
)

// statefulTypes hold data that a stack deletion or a replacement would
// destroy: each must be retained in both cases.
var statefulTypes = []string{
	"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::Cognito::UserPool",
	"AWS::Logs::LogGroup", "AWS::KMS::Key", "AWS::SecretsManager::Secret",
}

// lintOperations checks what an operator relies on: retained data, bounded
// log retention, access logs and throttling on the API, and alarms that
// notify someone for every function.
func lintOperations(resources map[string]any) []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	var topics, alarms []string
	for _, id := range sortedKeys(resources) {
		res, _ := resources[id].(map[string]any)
		typ, _ := res["Type"].(string)
		if slices.Contains(statefulTypes, typ) {
			for _, p := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
				if res[p] != "Retain" {
					add("%s (%s) holds data: %s must be Retain, is %v", id, typ, p, res[p])
				}
			}
		}
		switch typ {
		case "AWS::SNS::Topic":
			topics = append(topics, id)
		case "AWS::CloudWatch::Alarm":
			alarms = append(alarms, id)
		case "AWS::Logs::LogGroup":
			if !refersTo(mapAt(res, "Properties")["RetentionInDays"], "LogRetentionDays") {
				add("%s: RetentionInDays must be !Ref LogRetentionDays (logs are kept no longer than the operator chose)", id)
			}
		case "AWS::Serverless::HttpApi":
			props := mapAt(res, "Properties")
			if mapAt(props, "AccessLogSettings")["DestinationArn"] == nil {
				add("%s: no AccessLogSettings (API access logs)", id)
			}
			rs := mapAt(props, "DefaultRouteSettings")
			if !refersTo(rs["ThrottlingRateLimit"], "ApiThrottlingRateLimit") || !refersTo(rs["ThrottlingBurstLimit"], "ApiThrottlingBurstLimit") {
				add("%s: DefaultRouteSettings throttling must come from the ApiThrottling* parameters", id)
			}
		}
	}

	// Every alarm notifies the topic.
	for _, id := range alarms {
		props := mapAt(resources[id], "Properties")
		actions, _ := props["AlarmActions"].([]any)
		notifies := false
		for _, t := range topics {
			if refersTo(actions, t) {
				notifies = true
			}
		}
		if !notifies {
			add("%s: AlarmActions must notify the alarm topic %v", id, topics)
		}
	}

	// Every function: its own log group, and alarms on its errors and throttles;
	// a scheduled one also on a missing run.
	for _, id := range sortedKeys(resources) {
		res, _ := resources[id].(map[string]any)
		if res["Type"] != "AWS::Serverless::Function" {
			continue
		}
		lg, _ := mapAt(res, "Properties", "LoggingConfig")["LogGroup"].(map[string]any)
		group, _ := lg["Ref"].(string)
		if g, _ := resources[group].(map[string]any); g == nil || g["Type"] != "AWS::Logs::LogGroup" {
			add("%s: LoggingConfig.LogGroup must be !Ref a log group of the template (its retention)", id)
		}
		for _, metric := range []string{"Errors", "Throttles"} {
			if !hasAlarm(resources, alarms, "AWS/Lambda", metric, id) {
				add("%s: no alarm on AWS/Lambda %s with FunctionName !Ref %s", id, metric, id)
			}
		}
		scheduled := false
		for _, ev := range mapAt(res, "Properties", "Events") {
			if em, _ := ev.(map[string]any); em["Type"] == "Schedule" {
				scheduled = true
			}
		}
		// Every job prints "read" in its EMF line (shared/jobs.WriteEMF).
		if scheduled && !hasAlarm(resources, alarms, "microcert", "read", id) {
			add("%s: scheduled, so it needs an alarm on a missing run (microcert read, FunctionName !Ref %s)", id, id)
		}
	}
	return errs
}

// hasAlarm reports whether an alarm watches namespace/metric of the function,
// directly or as a query of a metric-math alarm.
func hasAlarm(resources map[string]any, alarms []string, namespace, metric, function string) bool {
	watches := func(m map[string]any) bool {
		if m["Namespace"] != namespace || m["MetricName"] != metric {
			return false
		}
		dims, _ := m["Dimensions"].([]any)
		for _, d := range dims {
			dm, _ := d.(map[string]any)
			if dm["Name"] == "FunctionName" && refersTo(dm["Value"], function) {
				return true
			}
		}
		return false
	}
	for _, id := range alarms {
		props := mapAt(resources[id], "Properties")
		if watches(props) {
			return true
		}
		queries, _ := props["Metrics"].([]any)
		for _, q := range queries {
			if watches(mapAt(q, "MetricStat", "Metric")) {
				return true
			}
		}
	}
	return false
}
