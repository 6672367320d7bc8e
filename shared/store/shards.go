package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"microcert/shared/domain"
)

// The certification due lists (DueIndex CERT, RemindIndex REMIND) are
// spread over certShards partitions each: a reminder day of 50 million
// certifications writes each list's index faster than one GSI partition
// takes (about 1,000 writes/s; BENCHMARKS.md, "Scale model"). A
// certification's shard is a hash of its key, so it never changes: a write
// that moves the certification within a list stays in the same partition.
// Each shard's list is ordered by due time; the jobs read the shards in
// parallel (one invocation per shard). The reviewers' queue and the case
// timeouts stay on one partition each: at the peak they use a fraction of
// it (same section).
const certShards = 16

// LegacyShard names the partitions the certification due lists used before
// they were sharded (duepk CERT, rpk REMIND). A certification written since
// is in a numbered shard; one untouched since stays there until it is
// written (the jobs read it as one more shard) or moved by
// BackfillShards.
const LegacyShard = "legacy"

// DueShards names the shards of the certification due lists, "00" to "15",
// then LegacyShard.
func (*Store) DueShards() []string {
	out := make([]string, 0, certShards+1)
	for i := range certShards {
		out = append(out, shardName(i))
	}
	return append(out, LegacyShard)
}

func shardName(i int) string { return fmt.Sprintf("%02d", i) }

// certShard is the shard of a certification: FNV-1a of its table key.
func certShard(enterpriseID string, t domain.CertType) string {
	h := fnv.New32a()
	h.Write([]byte(enterpriseID + "#" + string(t)))
	return shardName(int(h.Sum32() % certShards))
}

// shardPK is the partition key of list (dueCertPK, remindPK) in shard.
func shardPK(list, shard string) (string, error) {
	if shard == LegacyShard {
		return list, nil
	}
	for i := range certShards {
		if shardName(i) == shard {
			return list + "#" + shard, nil
		}
	}
	return "", internal("no shard %q of %s", shard, list)
}

// BackfillShards moves up to limit certifications out of the legacy
// partitions of both due lists into their shards, rewriting each item as it
// is (same version; the write only recomputes the index keys) on condition
// that nobody wrote it since it was read (a write moves it anyway). It
// returns how many it moved; run it until that is 0 (`backfill`, README
// "Sharded due lists"). Nothing is lost in the meantime: the jobs read the
// legacy partitions too.
func (s *Store) BackfillShards(ctx context.Context, limit int) (int, error) {
	moved := 0
	for _, list := range []struct{ index, hashAttr, rangeAttr, pk string }{
		{indexDue, attrDuePK, attrDueSK, dueCertPK},
		{indexRemind, attrRPK, attrRSK, remindPK},
	} {
		if moved >= limit {
			break
		}
		spec := cursorSpec{index: list.index, hashAttr: list.hashAttr, hashValue: list.pk, rangeAttr: list.rangeAttr,
			prefixes: map[string]string{attrPK: prefixEnt, attrSK: skCertPrefix}}
		kc := expression.Key(list.hashAttr).Equal(expression.Value(list.pk))
		items, _, err := s.queryPage(ctx, &dynamodb.QueryInput{IndexName: aws.String(list.index)}, kc, spec, domain.Page{Limit: limit - moved})
		if err != nil {
			return moved, err
		}
		certs, err := decodeAll(items, "certification", certificationItem.domain)
		if err != nil {
			return moved, err
		}
		for i := range certs {
			c := &certs[i]
			av, err := marshalItem(toCertificationItem(c, s.rules))
			if err != nil {
				return moved, err
			}
			o, err := s.putIf(av, expression.Name("version").Equal(expression.Value(c.Version)), domain.ErrVersionConflict, true)
			if err != nil {
				return moved, err
			}
			switch err := s.single(ctx, o); {
			case err == nil, errors.Is(err, domain.ErrVersionConflict):
				// Written since it was read: that write moved it.
				moved++
			default:
				return moved, err
			}
		}
	}
	return moved, nil
}
