package jobs_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/domain"
	"microcert/shared/jobs"
	"microcert/shared/store"
	"microcert/shared/store/storetest"
)

// The store is what the jobs run on in production.
var _ jobs.Store = (*store.Store)(nil)

var ctx = context.Background()

var rules = domain.DefaultRules

// env is one fresh table on the DynamoDB stand-in (real SDK over HTTP).
type env struct {
	t       testing.TB
	client  *dynamodb.Client
	table   string
	store   *store.Store
	counter *storetest.Counter
	logs    *bytes.Buffer
}

func newEnv(t testing.TB) *env {
	t.Helper()
	c := storetest.NewCounter()
	client, table := storetest.NewTable(t, c.Option())
	return &env{t: t, client: client, table: table, store: store.New(client, table, rules), counter: c, logs: &bytes.Buffer{}}
}

func (e *env) config() jobs.Config {
	return jobs.Config{Store: e.store, Rules: rules, Log: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
}

func (e *env) reminders() *jobs.Reminders { return jobs.NewReminders(e.config()) }
func (e *env) expiry() *jobs.Expiry       { return jobs.NewExpiry(e.config()) }

func (e *env) commit(ch *domain.Change) {
	e.t.Helper()
	if err := e.store.Commit(ctx, ch); err != nil {
		e.t.Fatalf("commit: %v", err)
	}
}

// beijingMorning is 09:00 Beijing time (01:00 UTC, the schedule's time) of
// the Beijing calendar day of t shifted by days.
func beijingMorning(t time.Time, days int) time.Time {
	b := t.In(domain.Beijing())
	return time.Date(b.Year(), b.Month(), b.Day()+days, 9, 0, 0, 0, domain.Beijing()).UTC()
}

// newCert is an active certification issued a year before it expires,
// with RemindAt as the approval leaves it: the first milestone.
func newCert(ent string, typ domain.CertType, expires time.Time) *domain.Certification {
	issued := expires.AddDate(-1, 0, 0)
	c := &domain.Certification{
		EnterpriseID: ent, Type: typ, Status: domain.CertActive,
		IssuedAt: issued, ExpiresAt: expires, CaseID: domain.NewIDAt(issued),
		Version: 1, Cycle: 1, UpdatedAt: issued,
	}
	c.RemindAt = c.NextReminderAt(issued, rules, nil)
	return c
}

func (e *env) createCert(c *domain.Certification) {
	e.t.Helper()
	e.commit(&domain.Change{Certifications: []domain.CertificationWrite{{Certification: c, Create: true}}})
}

func (e *env) cert(ent string, typ domain.CertType) *domain.Certification {
	e.t.Helper()
	c, err := e.store.GetCertification(ctx, ent, typ)
	if err != nil {
		e.t.Fatalf("get certification: %v", err)
	}
	return c
}

func (e *env) notifications(ent string) []domain.Notification {
	e.t.Helper()
	var out []domain.Notification
	cursor := ""
	for {
		ns, next, err := e.store.ListNotifications(ctx, ent, domain.Page{Limit: 100, Cursor: cursor})
		if err != nil {
			e.t.Fatalf("list notifications: %v", err)
		}
		out = append(out, ns...)
		if next == "" {
			break
		}
		cursor = next
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

// markExists reports whether the reminder mark is stored: writing it again
// is then a duplicate.
func (e *env) markExists(ent string, typ domain.CertType, cycle, milestone int) bool {
	e.t.Helper()
	err := e.store.Commit(ctx, &domain.Change{ReminderMarks: []domain.ReminderMark{{
		EnterpriseID: ent, Type: typ, Cycle: cycle, Milestone: milestone, At: time.Unix(0, 0)}}})
	switch {
	case err == nil:
		e.t.Fatalf("mark %s/%s/%d/%d did not exist (and is now written: use markExists last)", ent, typ, cycle, milestone)
	case domain.CodeOf(err) != "duplicate":
		e.t.Fatalf("probe mark: %v", err)
	}
	return true
}

// history lists the history entries of an enterprise's certifications
// ("ENT#<id>") or of a case ("CASE#<id>"), oldest first, as the store
// reads them.
func (e *env) history(pk string) []domain.HistoryEntry {
	e.t.Helper()
	var (
		hs  []domain.HistoryEntry
		err error
	)
	if id, ok := strings.CutPrefix(pk, "ENT#"); ok {
		hs, err = e.store.EnterpriseHistory(ctx, id)
	} else {
		var b *domain.CaseBundle
		if b, err = e.store.GetCaseBundle(ctx, strings.TrimPrefix(pk, "CASE#")); err == nil {
			hs = b.History
		}
	}
	if err != nil {
		e.t.Fatalf("history of %s: %v", pk, err)
	}
	return hs
}

// seedClones writes n copies of the stored item (pk, sk) with fresh
// enterprise ids, through BatchWriteItem (25 items a call, several calls
// at once). Every string attribute that held the template's enterprise id
// holds the clone's, so the copies sit in the same indexes at the same
// times as the template: the table grows without adding due work.
func (e *env) seedClones(pk, sk, entID string, n int) {
	e.t.Helper()
	got, err := e.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.table),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}})
	if err != nil || len(got.Item) == 0 {
		e.t.Fatalf("template item %s %s: %v", pk, sk, err)
	}
	// Seed through a client without the counter: seeding is not the job.
	client := storetest.NewClient(*e.client.Options().BaseEndpoint)
	const batch, parallel = 25, 8
	work := make(chan []types.WriteRequest)
	errs := make(chan error, parallel)
	for range parallel {
		go func() {
			var first error
			for reqs := range work {
				if first != nil {
					continue
				}
				in := map[string][]types.WriteRequest{e.table: reqs}
				for len(in[e.table]) > 0 {
					out, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: in})
					if err != nil {
						first = err
						break
					}
					in = out.UnprocessedItems
				}
			}
			errs <- first
		}()
	}
	reqs := make([]types.WriteRequest, 0, batch)
	for i := range n {
		id := fmt.Sprintf("%s%08d", entID[:len(entID)-8], i)
		item := make(map[string]types.AttributeValue, len(got.Item))
		for k, v := range got.Item {
			if s, ok := v.(*types.AttributeValueMemberS); ok && strings.Contains(s.Value, entID) {
				v = &types.AttributeValueMemberS{Value: strings.ReplaceAll(s.Value, entID, id)}
			}
			item[k] = v
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		if len(reqs) == batch || i == n-1 {
			work <- reqs
			reqs = make([]types.WriteRequest, 0, batch)
		}
	}
	close(work)
	for range parallel {
		if err := <-errs; err != nil {
			e.t.Fatalf("seed: %v", err)
		}
	}
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// discard is a logger that drops everything.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))
