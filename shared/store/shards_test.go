package store

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/domain"
)

// Certifications spread over the shards by their key, each in the same
// shard on both lists and after every write.
func TestCertShardsSpread(t *testing.T) {
	seen := map[string]int{}
	for range 1600 {
		ent := domain.NewID()
		seen[certShard(ent, domain.CertWeCom)]++
	}
	if len(seen) != certShards {
		t.Fatalf("%d shards used, want %d", len(seen), certShards)
	}
	for shard, n := range seen {
		// 100 expected each; a fair hash stays well within 50..150.
		if n < 50 || n > 150 {
			t.Errorf("shard %s holds %d of 1600", shard, n)
		}
	}
}

// Items written before the lists were sharded are read from the legacy
// shard until BackfillShards moves them into their shards.
func TestBackfillShards(t *testing.T) {
	s, _ := newStore(t)
	var want []string
	for i := range 5 {
		e := createEnterprise(t, s, "u")
		c := sampleCert(e.ID, domain.CertWeCom, domain.CertActive, t0.Add(time.Duration(i)*time.Hour))
		c.RemindAt = ptr(t0.Add(-time.Duration(i) * time.Hour))
		mustCommit(t, s, &domain.Change{Certifications: []domain.CertificationWrite{{Certification: c, Create: true}}})
		want = append(want, e.ID+"/wecom")
		// Back to the pre-shard layout: the constant partitions.
		key := itemKey(entPK(e.ID), certSK(domain.CertWeCom))
		got, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key})
		if err != nil {
			t.Fatal(err)
		}
		got.Item[attrDuePK] = &types.AttributeValueMemberS{Value: dueCertPK}
		got.Item[attrRPK] = &types.AttributeValueMemberS{Value: remindPK}
		if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: got.Item}); err != nil {
			t.Fatal(err)
		}
	}
	want = sorted(want...)
	legacy := func(list dueList) []string {
		page, _, err := list(ctx, LegacyShard, t0.AddDate(1, 0, 0), domain.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return sorted(certKeys(page)...)
	}
	if d := diff(want, legacy(s.RemindersDue)); d != "" {
		t.Errorf("legacy reminders (-want +got):\n%s", d)
	}
	if d := diff(want, legacy(s.DueCertifications)); d != "" {
		t.Errorf("legacy due (-want +got):\n%s", d)
	}
	// Small batches, until nothing is left.
	total := 0
	for range 20 {
		n, err := s.BackfillShards(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		total += n
	}
	if total != 5 { // one write moves an item off both lists
		t.Errorf("moved %d, want 5", total)
	}
	if got := legacy(s.RemindersDue); len(got) != 0 {
		t.Errorf("still legacy: %v", got)
	}
	if d := diff(want, allShards(t, s, s.RemindersDue, t0.AddDate(1, 0, 0), remindAt)); d != "" {
		t.Errorf("sharded reminders (-want +got):\n%s", d)
	}
	if d := diff(want, allShards(t, s, s.DueCertifications, t0.AddDate(1, 0, 0), transitionAt)); d != "" {
		t.Errorf("sharded due (-want +got):\n%s", d)
	}
	// Versions unchanged: the backfill is not a change of the entity.
	for _, k := range want {
		c, err := s.GetCertification(ctx, k[:len(k)-len("/wecom")], domain.CertWeCom)
		if err != nil || c.Version != 1 {
			t.Errorf("%s: %+v %v", k, c, err)
		}
	}
}
