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

// The stand-in's table has the template's keys and indexes.
func TestStartUsesTemplate(t *testing.T) {
	e := Start(t)
	tb, err := Table()
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Client.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(e.Table)})
	if err != nil {
		t.Fatal(err)
	}
	keys := func(ks []types.KeySchemaElement) string {
		var parts []string
		for _, k := range ks {
			parts = append(parts, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
		}
		return strings.Join(parts, ", ")
	}
	got := []string{"table " + keys(out.Table.KeySchema)}
	for _, g := range out.Table.GlobalSecondaryIndexes {
		got = append(got, aws.ToString(g.IndexName)+" "+keys(g.KeySchema))
	}
	want := []string{"table " + tb.HashKey + " HASH, " + tb.RangeKey + " RANGE"}
	for _, g := range tb.GSIs {
		want = append(want, g.Name+" "+g.HashKey+" HASH, "+g.RangeKey+" RANGE")
	}
	sort.Strings(got)
	sort.Strings(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("table (-template +stand-in):\n%s", d)
	}
	if len(tb.GSIs) == 0 {
		t.Error("the template's table has no indexes")
	}
}
