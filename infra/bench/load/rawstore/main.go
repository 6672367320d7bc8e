// Command rawstore times the store reads of GET /v1/cases/{caseId}
// (GetCaseBundle + GetEnterprise) and one GetItem, straight against
// DynamoDB, from a process of its own: like ApiFunction, it reaches the
// local DynamoDB over loopback from another process, so the comparison with
// the handler's time is fair. infra/bench/load starts it and writes one
// case id per line on stdin; it answers "<store ms> <getitem ms>" per line.
//
// Environment: DYNAMODB_URL, TABLE_NAME.
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/store"
)

func main() {
	db := dynamodb.New(dynamodb.Options{
		Region:                          "us-east-1",
		BaseEndpoint:                    aws.String(os.Getenv("DYNAMODB_URL")),
		Credentials:                     credentials.NewStaticCredentialsProvider("rawstore", "rawstore", ""),
		DisableValidateResponseChecksum: true,
	})
	table := os.Getenv("TABLE_NAME")
	st := store.New(db, table)
	ctx := context.Background()
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		caseID := strings.TrimSpace(in.Text())
		start := time.Now()
		b, err := st.GetCaseBundle(ctx, caseID)
		if err == nil {
			_, _, err = st.GetEnterprise(ctx, b.Case.EnterpriseID)
		}
		storeMs := float64(time.Since(start).Microseconds()) / 1000
		if err != nil {
			fmt.Fprintf(out, "error %v\n", err)
			out.Flush()
			continue
		}
		start = time.Now()
		_, err = db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "CASE#" + caseID},
				"sk": &types.AttributeValueMemberS{Value: "A#CASE"},
			}})
		getMs := float64(time.Since(start).Microseconds()) / 1000
		if err != nil {
			fmt.Fprintf(out, "error %v\n", err)
		} else {
			fmt.Fprintf(out, "%.3f %.3f\n", storeMs, getMs)
		}
		out.Flush()
	}
}
