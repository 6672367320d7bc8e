package storetest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
)

// describe flattens a CreateTable request into comparable lines.
func describe(in *dynamodb.CreateTableInput) []string {
	var out []string
	for _, a := range in.AttributeDefinitions {
		out = append(out, fmt.Sprintf("attr %s %s", aws.ToString(a.AttributeName), a.AttributeType))
	}
	for _, k := range in.KeySchema {
		out = append(out, fmt.Sprintf("key %s %s", aws.ToString(k.AttributeName), k.KeyType))
	}
	for _, g := range in.GlobalSecondaryIndexes {
		for _, k := range g.KeySchema {
			out = append(out, fmt.Sprintf("gsi %s key %s %s", aws.ToString(g.IndexName), aws.ToString(k.AttributeName), k.KeyType))
		}
		if g.Projection != nil {
			out = append(out, fmt.Sprintf("gsi %s projection %s %v", aws.ToString(g.IndexName), g.Projection.ProjectionType, g.Projection.NonKeyAttributes))
		}
	}
	out = append(out, "billing "+string(in.BillingMode))
	sort.Strings(out)
	return out
}

// The template's table is the one the store was written for.
func TestTemplateMatchesFallback(t *testing.T) {
	in, source, err := TableInput("x")
	if err != nil {
		t.Fatal(err)
	}
	if source == "fallback" {
		t.Skip("template.yaml defines no table yet")
	}
	if d := cmp.Diff(describe(FallbackTableInput("x")), describe(in)); d != "" {
		t.Errorf("%s differs from the store's table (-store +template):\n%s", source, d)
	}
}

func TestParseTemplate(t *testing.T) {
	const tpl = `
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub docs-${AWS::AccountId}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub microcert-${Env}
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - { AttributeName: pk, AttributeType: S }
        - AttributeName: sk
          AttributeType: S
        - { AttributeName: g, AttributeType: S }
      KeySchema:
        - { AttributeName: pk, KeyType: HASH }
        - { AttributeName: sk, KeyType: RANGE }
      GlobalSecondaryIndexes:
        - IndexName: G
          KeySchema:
            - { AttributeName: g, KeyType: HASH }
          Projection: { ProjectionType: INCLUDE, NonKeyAttributes: [a, b] }
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            Resource: !GetAtt Table.Arn
`
	in, ok, err := ParseTemplate([]byte(tpl), "t")
	if err != nil || !ok {
		t.Fatalf("ParseTemplate: ok %v err %v", ok, err)
	}
	want := []string{
		"attr g S", "attr pk S", "attr sk S", "billing PAY_PER_REQUEST",
		"gsi G key g HASH", "gsi G projection INCLUDE [a b]",
		"key pk HASH", "key sk RANGE",
	}
	if d := cmp.Diff(want, describe(in)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if aws.ToString(in.TableName) != "t" {
		t.Errorf("table name %q", aws.ToString(in.TableName))
	}

	_, ok, err = ParseTemplate([]byte("Resources:\n  B:\n    Type: AWS::S3::Bucket\n"), "t")
	if ok || err != nil {
		t.Errorf("no table: ok %v err %v", ok, err)
	}
}

func TestCounter(t *testing.T) {
	c := NewCounter()
	client, table := NewTable(t, c.Option())
	for i := 0; i < 3; i++ {
		_, err := client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "P"}, "sk": &types.AttributeValueMemberS{Value: fmt.Sprint(i)},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if c.Calls("PutItem") != 3 || c.ItemsRead() != 0 {
		t.Errorf("after puts: %d puts, %d items read", c.Calls("PutItem"), c.ItemsRead())
	}
	c.Reset()
	_, err := client.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String(table),
		KeyConditionExpression:    aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "P"}}})
	if err != nil {
		t.Fatal(err)
	}
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "P"}, "sk": &types.AttributeValueMemberS{Value: "1"}}
	if _, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key}); err != nil {
		t.Fatal(err)
	}
	missing := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "P"}, "sk": &types.AttributeValueMemberS{Value: "9"}}
	if _, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: missing}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table)}); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("query %d/%d get %d/%d scan %d/%d total %d/%d",
		c.Calls("Query"), c.ItemsReadBy("Query"), c.Calls("GetItem"), c.ItemsReadBy("GetItem"),
		c.Calls("Scan"), c.ItemsReadBy("Scan"), c.TotalCalls(), c.ItemsRead())
	if want := "query 1/3 get 2/1 scan 1/3 total 4/7"; got != want {
		t.Errorf("counted %s, want %s", got, want)
	}

	// Wrap counts a copy of an existing client.
	c2 := NewCounter()
	if _, err := c2.Wrap(client).GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key}); err != nil {
		t.Fatal(err)
	}
	if c2.Calls("GetItem") != 1 || c.Calls("GetItem") != 3 {
		t.Errorf("wrapped: %d, original %d", c2.Calls("GetItem"), c.Calls("GetItem"))
	}
}

func TestStartUsesTemplate(t *testing.T) {
	e := Start(t)
	if e.Source != "fallback" && !strings.HasSuffix(e.Source, "template.yaml") {
		t.Errorf("source %q", e.Source)
	}
	out, err := e.Client.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(e.Table)})
	if err != nil {
		t.Fatal(err)
	}
	if n, want := len(out.Table.GlobalSecondaryIndexes), len(FallbackTableInput("x").GlobalSecondaryIndexes); n != want {
		t.Errorf("%d GSIs, want %d", n, want)
	}
}
