package localstack

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BenchmarkLocalDynamoWrite is the price of the journal: one acknowledged
// write over HTTP through the SDK, with minidyn alone (memory only, what a
// SIGKILL loses), with the journal written but not synced (survives a
// killed process, not a power cut), and as the stack runs it (synced).
func BenchmarkLocalDynamoWrite(b *testing.B) {
	modes := []struct {
		name          string
		journal, sync bool
	}{
		{"memory", false, false},
		{"journal", true, false},
		{"journal+fsync", true, true},
	}
	for _, m := range modes {
		for _, op := range []string{"PutItem", "TransactWriteItems3"} {
			b.Run("mode="+m.name+"/op="+op, func(b *testing.B) {
				d, c := startTestDynamo(b, b.TempDir())
				d.j.sync = m.sync
				if !m.journal {
					_ = d.j.close()
				}
				ctx, tb := context.Background(), aws.String(d.table.Name)
				b.ResetTimer()
				for i := range b.N {
					pk := fmt.Sprintf("B#%d", i)
					var err error
					if op == "PutItem" {
						_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tb, Item: item(pk, "1", "v")})
					} else {
						_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
							{Put: &types.Put{TableName: tb, Item: item(pk, "1", "v")}},
							{Put: &types.Put{TableName: tb, Item: item(pk, "2", "v")}},
							{Put: &types.Put{TableName: tb, Item: item(pk, "3", "v")}},
						}})
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
