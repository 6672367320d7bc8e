package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/domain"
)

// Items kept per enterprise that the first version did not write, and that
// data written before them lacks:
//
//   - an open case's slots (perenterprise.go): without them a second open
//     case of the same type can be opened beside it, and a dispute won
//     against its enterprise does not withdraw it (the dispute finds the
//     enterprise's open cases by their slots);
//   - the owner's membership (member.go): without it domain.Authorize
//     answers the profile's owner 404 on everything of the profile, and
//     GET /v1/enterprises does not list it.
//
// BackfillEnterpriseItems writes them, one page of the table at a time.

// backfillAttempts bounds the re-reads of one case or profile that an API
// write changes while the backfill writes its items.
const backfillAttempts = 3

// EnterpriseBackfill is what one batch of BackfillEnterpriseItems did.
type EnterpriseBackfill struct {
	// Examined counts the cases and profiles the batch read.
	Examined int
	// Slots and Owners count the slots and owner memberships written.
	Slots, Owners int
	// Left lists what the batch would not write, for an operator.
	Left []BackfillLeftover
	// Next is the cursor of the next batch; "" when the table is done.
	Next string
}

// BackfillLeftover is an item the backfill would not write, and why.
type BackfillLeftover struct {
	EnterpriseID string
	// Subject is the slot subject, or "owner".
	Subject string
	// CaseIDs are the open cases without a slot for Subject (sorted).
	CaseIDs []string
	Reason  string
}

func (l BackfillLeftover) String() string {
	s := "enterprise " + l.EnterpriseID + ", " + l.Subject
	if len(l.CaseIDs) > 0 {
		s += ", cases " + strings.Join(l.CaseIDs, " ")
	}
	return s + ": " + l.Reason
}

// scanCursor is the cursor of the backfill's Scan: any table key.
var scanCursor = cursorSpec{hashAttr: attrPK, rangeAttr: attrSK, anyPartition: true}

// BackfillEnterpriseItems reads one page of up to limit items of the table,
// from cursor from ("" at the start), and writes what its open cases and
// profiles lack: each slot of an open case that no other open case covers,
// and the owner's membership of a profile without one. It writes only
// what is missing and only under conditions (the case or profile is still
// the version read, the slot or membership still absent), so a second run
// writes nothing and a concurrent API write wins (the case or profile is
// read again). It never takes a subject another open case holds or also
// covers: such a subject is listed in Left (once, by the first of its
// slot-less cases), as is a profile whose owner role another member holds.
//
// It Scans the table: it is a migration tool that visits every case and
// profile once, never a request or a job path (those read by key and by
// index only).
func (s *Store) BackfillEnterpriseItems(ctx context.Context, from string, limit int) (EnterpriseBackfill, error) {
	var out EnterpriseBackfill
	if limit < 1 || limit > 1000 {
		return out, internal("backfill batch of %d items", limit)
	}
	expr, err := expression.NewBuilder().WithFilter(expression.Name("entity").
		In(expression.Value("case"), expression.Value("enterprise"))).Build()
	if err != nil {
		return out, internal("build backfill filter: %w", err)
	}
	in := &dynamodb.ScanInput{TableName: aws.String(s.table), Limit: aws.Int32(int32(limit)),
		FilterExpression: expr.Filter(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	if from != "" {
		if in.ExclusiveStartKey, err = scanCursor.decode(from); err != nil {
			return out, err
		}
	}
	page, err := s.db.Scan(ctx, in)
	if err != nil {
		return out, mapErr(err)
	}
	for _, av := range page.Items {
		switch stringAttr(av, "entity") {
		case "case":
			err = s.backfillSlots(ctx, strings.TrimPrefix(stringAttr(av, attrPK), prefixCase), &out)
		case "enterprise":
			err = s.backfillOwner(ctx, strings.TrimPrefix(stringAttr(av, attrPK), prefixEnt), &out)
		default:
			continue
		}
		if err != nil {
			return out, err
		}
		out.Examined++
	}
	out.Next, err = encodeCursor(page.LastEvaluatedKey)
	return out, err
}

// backfillSlots writes the missing slots of case id if it is open.
func (s *Store) backfillSlots(ctx context.Context, id string, out *EnterpriseBackfill) error {
	var entID string
	for range backfillAttempts {
		c, err := s.GetCase(ctx, id)
		switch {
		case errors.Is(err, domain.ErrNotFound):
			return nil
		case err != nil:
			return err
		case c.Status.Final():
			return nil
		}
		entID = c.EnterpriseID
		held, err := s.slotHolders(ctx, c.EnterpriseID)
		if err != nil {
			return err
		}
		others, err := s.openCasesOf(ctx, c.EnterpriseID)
		if err != nil {
			return err
		}
		var take []domain.CaseSlot
		var left []BackfillLeftover
		for _, w := range domain.SlotsFor(c, false) {
			holder := held[w.Subject]
			if holder == c.ID {
				continue
			}
			slotless := []string{c.ID}
			for i := range others {
				if o := &others[i]; o.ID != c.ID && o.ID != holder && slices.Contains(o.SlotSubjects(), w.Subject) {
					slotless = append(slotless, o.ID)
				}
			}
			if holder == "" && len(slotless) == 1 {
				take = append(take, w)
				continue
			}
			slices.Sort(slotless)
			if slotless[0] != c.ID {
				continue // the first slot-less case reports it
			}
			reason := "more than one open case covers it and none holds its slot; have all but one withdrawn, then run the backfill again"
			if holder != "" {
				reason = "open case " + holder + " holds its slot beside these; have all but one of them withdrawn (a case without the slot leaves it to its holder when it closes), then run the backfill again"
			}
			left = append(left, BackfillLeftover{EnterpriseID: c.EnterpriseID, Subject: w.Subject, CaseIDs: slotless, Reason: reason})
		}
		if len(take) == 0 {
			out.Left = append(out.Left, left...)
			return nil
		}
		err = s.writeIfUnchanged(ctx, itemKey(casePK(c.ID), skCase), c.Version, func() ([]op, error) {
			var ops []op
			for _, w := range take {
				o, err := s.slotOps(w)
				if err != nil {
					return nil, err
				}
				ops = append(ops, o...)
			}
			return ops, nil
		})
		switch {
		case err == nil:
			out.Slots += len(take)
			out.Left = append(out.Left, left...)
			return nil
		case !errors.Is(err, domain.ErrVersionConflict):
			return err
		}
	}
	out.Left = append(out.Left, BackfillLeftover{EnterpriseID: entID, Subject: "slots", CaseIDs: []string{id},
		Reason: "the case changed at every attempt; run the backfill again"})
	return nil
}

// backfillOwner writes the owner's membership of profile id if it has none.
func (s *Store) backfillOwner(ctx context.Context, id string, out *EnterpriseBackfill) error {
	for range backfillAttempts {
		st, err := s.GetEnterpriseState(ctx, id)
		switch {
		case errors.Is(err, domain.ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		e := st.Enterprise
		if m := st.Member(e.OwnerID); m != nil {
			if m.Role != domain.MemberOwner {
				out.Left = append(out.Left, BackfillLeftover{EnterpriseID: id, Subject: "owner",
					Reason: fmt.Sprintf("the profile's owner %s is a member with role %s", e.OwnerID, m.Role)})
			}
			return nil
		}
		for _, m := range st.Members {
			if m.Role == domain.MemberOwner {
				out.Left = append(out.Left, BackfillLeftover{EnterpriseID: id, Subject: "owner",
					Reason: fmt.Sprintf("member %s holds the owner role, the profile names %s", m.UserID, e.OwnerID)})
				return nil
			}
		}
		err = s.writeIfUnchanged(ctx, itemKey(entPK(e.ID), skProfile), e.Version, func() ([]op, error) {
			return s.memberOps(domain.OwnerMembership(e))
		})
		switch {
		case err == nil:
			out.Owners++
			return nil
		case !errors.Is(err, domain.ErrVersionConflict):
			return err
		}
	}
	out.Left = append(out.Left, BackfillLeftover{EnterpriseID: id, Subject: "owner",
		Reason: "the profile changed at every attempt; run the backfill again"})
	return nil
}

// writeIfUnchanged writes the ops of writes in one transaction with a
// check that the item at key is still at version: version_conflict when
// it is not, or when a write's own condition fails.
func (s *Store) writeIfUnchanged(ctx context.Context, key map[string]types.AttributeValue, version int, writes func() ([]op, error)) error {
	check, err := s.checkOp(key, expression.Name("version").Equal(expression.Value(version)), domain.ErrVersionConflict, true)
	if err != nil {
		return err
	}
	ops, err := writes()
	if err != nil {
		return err
	}
	return s.transact(ctx, append([]op{check}, ops...))
}

// slotHolders maps each slot subject of the enterprise to the case holding
// it (strongly consistent).
func (s *Store) slotHolders(ctx context.Context, enterpriseID string) (map[string]string, error) {
	items, err := s.batchGet(ctx, slotKeys(enterpriseID), true)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, av := range items {
		out[strings.TrimPrefix(stringAttr(av, attrSK), skSlotPrefix)] = stringAttr(av, attrSlotCaseID)
	}
	return out, nil
}

// openCasesOf lists the enterprise's cases that are not closed (GSI1
// ENTCASES#<entId>, every page).
func (s *Store) openCasesOf(ctx context.Context, enterpriseID string) ([]domain.Case, error) {
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(entCasesPK(enterpriseID)))
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{IndexName: aws.String(indexGSI1)}, kc)
	if err != nil {
		return nil, err
	}
	all, err := decodeAll(items, "case", caseItem.domain)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(c domain.Case) bool { return c.Status.Final() }), nil
}
