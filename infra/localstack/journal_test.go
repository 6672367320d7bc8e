package localstack

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"microcert/infra/template"
)

// startTestDynamo starts the local DynamoDB on dir as the stack does and
// returns it with a client. It is not closed at cleanup: tests "kill" it by
// abandoning it (the server stops with the test binary) and start another.
func startTestDynamo(t testing.TB, dir string) (*dynamo, *dynamodb.Client) {
	t.Helper()
	tpl, err := template.LoadRepo(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	d, err := startDynamo(context.Background(), "127.0.0.1:0", tpl.Table, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.recover(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.srv.Close() })
	return d, dynamodb.New(dynamodb.Options{
		Region:                          Region,
		BaseEndpoint:                    aws.String(d.url),
		Credentials:                     credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		DisableValidateResponseChecksum: true,
	})
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}
}

func item(pk, sk, v string) map[string]types.AttributeValue {
	it := key(pk, sk)
	it["v"] = &types.AttributeValueMemberS{Value: v}
	return it
}

// tableContents is every item as "pk/sk=v", sorted.
func tableContents(t testing.TB, c *dynamodb.Client, table string) []string {
	t.Helper()
	out, err := c.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range out.Items {
		s := it["pk"].(*types.AttributeValueMemberS).Value + "/" + it["sk"].(*types.AttributeValueMemberS).Value
		if v, ok := it["v"].(*types.AttributeValueMemberS); ok {
			s += "=" + v.Value
		}
		got = append(got, s)
	}
	sort.Strings(got)
	return got
}

// writeEveryKind makes one acknowledged write of each kind the journal knows.
func writeEveryKind(t testing.TB, c *dynamodb.Client, table string) {
	t.Helper()
	ctx := context.Background()
	tb := aws.String(table)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tb, Item: item("A", "1", "put")}))
	must(c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tb, Item: item("A", "2", "doomed")}))
	must(c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tb, Key: key("A", "1"),
		UpdateExpression:          aws.String("SET v = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "updated"}}}))
	must(c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tb, Key: key("A", "2")}))
	must(c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: {
		{PutRequest: &types.PutRequest{Item: item("B", "1", "batch")}},
		{PutRequest: &types.PutRequest{Item: item("B", "2", "batch")}},
	}}}))
	must(c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: tb, Item: item("C", "1", "tx")}},
		{Update: &types.Update{TableName: tb, Key: key("B", "1"), UpdateExpression: aws.String("SET v = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "tx-updated"}}}},
		{Delete: &types.Delete{TableName: tb, Key: key("B", "2")}},
		{ConditionCheck: &types.ConditionCheck{TableName: tb, Key: key("A", "1"), ConditionExpression: aws.String("attribute_exists(pk)")}},
	}}))
	// A failed condition writes nothing and journals nothing.
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tb, Item: item("A", "1", "refused"),
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("conditional put: %v", err)
	}
}

var wantAfterEveryKind = []string{"A/1=updated", "B/1=tx-updated", "C/1=tx"}

// restartWants starts the local DynamoDB on dir again (after a "kill") and
// fails unless it holds wantAfterEveryKind.
func restartWants(t *testing.T, dir, when string) *dynamo {
	t.Helper()
	d, c := startTestDynamo(t, dir)
	if diff := cmp.Diff(wantAfterEveryKind, tableContents(t, c, d.table.Name)); diff != "" {
		t.Fatalf("%s (-want +got):\n%s", when, diff)
	}
	return d
}

// TestJournalKeepsAcknowledgedWrites: every write acknowledged before the
// stack dies (no snapshot taken) is there after the next start.
func TestJournalKeepsAcknowledgedWrites(t *testing.T) {
	dir := t.TempDir()
	d, c := startTestDynamo(t, dir)
	writeEveryKind(t, c, d.table.Name)
	if got := tableContents(t, c, d.table.Name); !cmp.Equal(got, wantAfterEveryKind) {
		t.Fatalf("before the kill: %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "dynamodb.json")); err != nil {
		t.Fatal("no snapshot after start:", err)
	}

	// Killed: no checkpoint. The next start replays the journal, and folds it
	// into the snapshot, so a third start (killed again, nothing new) too.
	d2 := restartWants(t, dir, "after a kill")
	if fi, err := os.Stat(d2.wal); err != nil || fi.Size() != 0 {
		t.Fatalf("journal after recovery: %v, %v; want it folded into the snapshot", fi, err)
	}
	restartWants(t, dir, "after a second kill")
}

// TestJournalReplayTwice: a crash between the new snapshot and the journal's
// truncation replays the journal onto a table that already holds it.
func TestJournalReplayTwice(t *testing.T) {
	dir := t.TempDir()
	d, c := startTestDynamo(t, dir)
	writeEveryKind(t, c, d.table.Name)
	wal, err := os.ReadFile(d.wal)
	if err != nil || len(wal) == 0 {
		t.Fatalf("journal: %d bytes, %v", len(wal), err)
	}
	if _, err := d.checkpoint(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.wal, wal, 0o644); err != nil { // as if the truncation never happened
		t.Fatal(err)
	}
	restartWants(t, dir, "journal replayed twice")
}

// TestJournalTornRecord: a last record cut short was never acknowledged and
// is dropped; damage before the last record is an error, not silent loss.
func TestJournalTornRecord(t *testing.T) {
	dir := t.TempDir()
	d, c := startTestDynamo(t, dir)
	writeEveryKind(t, c, d.table.Name)
	wal, _ := os.ReadFile(d.wal)

	if err := os.WriteFile(d.wal, append(append([]byte{}, wal...), `{"items":[{"key":{"pk":{"S":"D"}`...), 0o644); err != nil {
		t.Fatal(err)
	}
	restartWants(t, dir, "torn last record")

	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dynamodb.wal"), append([]byte("{not json\n"), wal...), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl, _ := template.LoadRepo(repoRoot)
	d3, err := startDynamo(context.Background(), "127.0.0.1:0", tpl.Table, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d3.srv.Close()
	if _, _, err := d3.recover(); err == nil || !strings.Contains(err.Error(), "record 1") {
		t.Fatalf("damaged journal: %v, want an error naming record 1", err)
	}
}
