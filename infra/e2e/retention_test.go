package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"microcert/infra/localstack"
)

// TestRetentionOfClosedCases: the documents of a withdrawn case are kept
// for the retention period, then the expiry job tags them for the bucket's
// lifecycle rule (PIPL: identity documents are kept no longer than needed).
func TestRetentionOfClosedCases(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	_, caseID := newDraft(t, a, "wecom")
	d := a.upload(caseID, "legal_rep_id_front", "image/jpeg", uniqueScan())
	up := a.must(200, "POST", "/v1/cases/"+caseID+"/withdraw", nil).obj(t)
	if up["status"] != "withdrawn" {
		t.Fatalf("withdraw = %v", up["status"])
	}
	key := "uploads/" + caseID + "/" + d["id"].(string)
	tags := func() map[string]string {
		out, err := shared.S3().GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{
			Bucket: aws.String(shared.BucketName()), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, tg := range out.TagSet {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return m
	}
	run := func(at time.Time) map[string]any { return runExpiry(t, at) }

	run(time.Now().Add(29 * 24 * time.Hour))
	if tags()["retention"] == "expire" {
		t.Fatal("documents tagged before the retention period ended")
	}
	sum := run(time.Now().Add(31 * 24 * time.Hour))
	if tags()["retention"] != "expire" || tags()["check"] != "passed" {
		t.Fatalf("tags after retention: %v (run %v)", tags(), sum)
	}
	if !documentHasTTL(t, caseID, d["id"].(string)) {
		t.Fatal("document item without a TTL after retention")
	}
	// Done once: the case left the due index.
	again := run(time.Now().Add(32 * 24 * time.Hour))
	if c, _ := again["counts"].(map[string]any); c != nil && c["documents_expired"] != nil {
		t.Fatalf("retention applied twice: %v", again)
	}
}

// runExpiry invokes the expiry job as of at and returns its summary.
func runExpiry(t *testing.T, at time.Time) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := shared.Invoke(ctx, "ExpiryFunction", localstack.ScheduledEvent("ExpiryFunction", "Daily", at))
	if err != nil {
		t.Fatal(err)
	}
	var sum map[string]any
	_ = json.Unmarshal(out, &sum)
	return sum
}

// documentHasTTL reports whether a document's item is marked for
// deletion (its ttl attribute, read from the stack's table).
func documentHasTTL(t *testing.T, caseID, docID string) bool {
	t.Helper()
	item, err := shared.DynamoDB().GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(shared.TableName()),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "CASE#" + caseID},
			"sk": &types.AttributeValueMemberS{Value: "D#" + docID}}})
	if err != nil {
		t.Fatal(err)
	}
	return item.Item["ttl"] != nil
}
