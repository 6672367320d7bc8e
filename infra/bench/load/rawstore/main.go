// Command rawstore times the store reads of GET /v1/cases/{caseId}
// (GetCaseBundle + GetEnterprise) straight against DynamoDB, from a process
// of its own whose client is built exactly as the functions build theirs
// (shared/config from the same environment): like ApiFunction, it reaches
// the local DynamoDB over loopback from another process, so the difference
// with the handler's time is the handler's own work.
//
// infra/bench/load starts it with the function's environment and writes one
// case id per line on stdin; it answers per line
//
//	<reads ms> <reads ms, response CRC32 check off> <one GetItem ms>
//
// The second figure shows what the local stand-in's missing X-Amz-Crc32
// header costs the functions' client (each response fails the check, and the
// SDK logs a warning and may drop the connection).
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/config"
	"microcert/shared/store"
)

func main() {
	ctx := context.Background()
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, "rawstore:", err)
		os.Exit(1)
	}
	rules, err := cfg.Rules()
	if err != nil {
		fmt.Fprintln(os.Stderr, "rawstore:", err)
		os.Exit(1)
	}
	db := cfg.DynamoDB()
	quiet := cfg.DynamoDB(func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	st, stQuiet := store.New(db, cfg.TableName, rules), store.New(quiet, cfg.TableName, rules)
	reads := func(s *store.Store, caseID string) (float64, error) {
		start := time.Now()
		b, err := s.GetCaseBundle(ctx, caseID)
		if err == nil {
			_, _, err = s.GetEnterprise(ctx, b.Case.EnterpriseID)
		}
		return float64(time.Since(start).Microseconds()) / 1000, err
	}
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		caseID := strings.TrimSpace(in.Text())
		a, err := reads(st, caseID)
		var b, g float64
		if err == nil {
			b, err = reads(stQuiet, caseID)
		}
		if err == nil {
			start := time.Now()
			_, err = db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(cfg.TableName), ConsistentRead: aws.Bool(true),
				Key: map[string]types.AttributeValue{
					"pk": &types.AttributeValueMemberS{Value: "CASE#" + caseID},
					"sk": &types.AttributeValueMemberS{Value: "A#CASE"},
				}})
			g = float64(time.Since(start).Microseconds()) / 1000
		}
		if err != nil {
			fmt.Fprintf(out, "error %v\n", err)
		} else {
			fmt.Fprintf(out, "%.3f %.3f %.3f\n", a, b, g)
		}
		out.Flush()
	}
}
