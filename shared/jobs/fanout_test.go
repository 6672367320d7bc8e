package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/clock"
	"microcert/shared/domain"
	"microcert/shared/jobs"
	"microcert/shared/store"
)

// slowStore is the store under a wall clock that moves on by step at every
// commit: a run's deadline comes after a known amount of work, whatever the
// machine's speed.
type slowStore struct {
	*store.Store
	wall *clock.Fake
	step time.Duration
}

func (s slowStore) Commit(ctx context.Context, ch *domain.Change) error {
	s.wall.Advance(s.step)
	return s.Store.Commit(ctx, ch)
}

// lambda stands in for Lambda's async invokes of one function: every event
// is delivered twice (at-least-once delivery), each invocation gets a
// deadline timeout ahead on the wall clock, and a failed one is retried
// twice. Invocations run one after the other, so that each one's deadline
// depends on its own work (TestRemindersConcurrentRunsSendOnce runs
// overlapping ones).
type lambda struct {
	t       *testing.T
	h       *jobs.Handler
	wall    *clock.Fake
	timeout time.Duration

	mu        sync.Mutex
	queue     [][]byte
	summaries []jobs.Summary
}

func (l *lambda) InvokeAsync(_ context.Context, event []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queue = append(l.queue, event, event)
	return nil
}

// drain runs the queued events, a round at a time (all of a round at
// once), until none is left.
func (l *lambda) drain() {
	for round := 0; ; round++ {
		if round > 100 {
			l.t.Fatal("the invocations never end")
		}
		l.mu.Lock()
		batch := l.queue
		l.queue = nil
		l.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		for _, ev := range batch {
			l.invoke(ev)
		}
	}
}

func (l *lambda) invoke(ev []byte) {
	for attempt := 0; attempt < 3; attempt++ {
		runCtx, cancel := context.WithDeadline(ctx, l.wall.Now().Add(l.timeout))
		s, err := l.h.Handle(runCtx, ev)
		cancel()
		l.mu.Lock()
		l.summaries = append(l.summaries, s)
		l.mu.Unlock()
		if err == nil {
			return
		}
	}
	l.t.Errorf("event %s failed three times", ev)
}

// writeLegacy rewrites a stored certification as it was before the due
// lists were sharded: on the partitions CERT and REMIND.
func (e *env) writeLegacy(ent string, typ domain.CertType) {
	e.t.Helper()
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ENT#" + ent},
		"sk": &types.AttributeValueMemberS{Value: "B#CERT#" + string(typ)}}
	got, err := e.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: key})
	if err != nil || len(got.Item) == 0 {
		e.t.Fatalf("legacy: %v", err)
	}
	for attr, legacy := range map[string]string{"rpk": "REMIND", "duepk": "CERT"} {
		if _, ok := got.Item[attr]; ok {
			got.Item[attr] = &types.AttributeValueMemberS{Value: legacy}
		}
	}
	if _, err := e.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: got.Item}); err != nil {
		e.t.Fatalf("legacy: %v", err)
	}
}

// A day's reminders through the fan-out: the scheduled run, then one
// invocation per unfinished shard, each stopping near its deadline and
// handing the rest on, every event delivered twice. Every certification gets its reminder exactly
// once, the legacy partition included, and nothing due is left.
func TestFanOutDayExactlyOnce(t *testing.T) {
	e := newEnv(t)
	now := beijingMorning(expires, -60) // the 60-day milestone
	const n, legacy = 90, 6
	ents := make([]string, n)
	for i := range ents {
		ents[i] = domain.NewID()
		e.createCert(newCert(ents[i], domain.CertWeCom, expires))
		if i < legacy {
			e.writeLegacy(ents[i], domain.CertWeCom)
		}
	}
	wall := clock.NewFake(time.Now())
	cfg := e.config()
	cfg.Store = slowStore{Store: e.store, wall: wall, step: 15 * time.Second}
	cfg.Wall = wall
	cfg.SafetyMargin = 15 * time.Second
	cfg.Workers = 2
	l := &lambda{t: t, wall: wall, timeout: 60 * time.Second}
	l.h = &jobs.Handler{Job: jobs.NewReminders(cfg), Clock: wall, Log: discard, FanOut: l}

	// The scheduled run works for InlineBudget, then fans out the parts
	// it did not finish.
	ev, _ := json.Marshal(map[string]string{"time": now.Format(time.RFC3339)})
	s, err := l.h.Handle(ctx, ev)
	if err != nil || len(s.Dispatched) == 0 || !s.HandedOn || s.Count(jobs.OutSent) == 0 {
		t.Fatalf("the scheduled run: %+v %v", s, err)
	}
	l.summaries = append(l.summaries, s)
	l.drain()

	var sent, handedOn, parts int
	for _, s := range l.summaries {
		sent += s.Count(jobs.OutSent)
		if s.HandedOn {
			handedOn++
		}
		parts++
		if s.Count(jobs.OutFailed) > 0 {
			t.Errorf("failures: %+v", s)
		}
	}
	if sent != n {
		t.Errorf("sent %d reminders over %d invocations, want %d", sent, parts, n)
	}
	if handedOn == 0 {
		t.Error("no invocation stopped near its deadline: the test does not test resuming")
	}
	for _, ent := range ents {
		if got := daysBefore(e.notifications(ent)); len(got) != 1 || got[0] != 60 {
			t.Errorf("%s: reminders on days %v, want [60] once", ent, got)
		}
		if c := e.cert(ent, domain.CertWeCom); !c.RemindAt.After(now) {
			t.Errorf("%s still due at %v", ent, c.RemindAt)
		}
	}
	// Nothing is due any more in any shard.
	if again := jobs.NewReminders(e.config()).Run(ctx, now); again.Read != 0 || !again.Complete {
		t.Errorf("a run after the day read %d items: %+v", again.Read, again)
	}
	t.Logf("%d reminders, %d invocations, %d handed on", sent, parts, handedOn)
}

// The expiry job's fan-out covers the certification shards and the case
// timeouts; each transition is applied once.
func TestFanOutExpiryOnce(t *testing.T) {
	e := newEnv(t)
	now := beijingMorning(expires, 1) // the day after expiry
	const n = 40
	ents := make([]string, n)
	for i := range ents {
		ents[i] = domain.NewID()
		e.createCert(newCert(ents[i], domain.CertOfficialAccount, expires))
		if i%10 == 0 {
			e.writeLegacy(ents[i], domain.CertOfficialAccount)
		}
	}
	wall := clock.NewFake(time.Now())
	cfg := e.config()
	cfg.Store = slowStore{Store: e.store, wall: wall, step: 10 * time.Second}
	cfg.Wall = wall
	l := &lambda{t: t, wall: wall, timeout: 60 * time.Second}
	l.h = &jobs.Handler{Job: jobs.NewExpiry(cfg), Clock: wall, Log: discard, FanOut: l}
	ev, _ := json.Marshal(map[string]string{"time": now.Format(time.RFC3339)})
	s, err := l.h.Handle(ctx, ev)
	if err != nil || len(s.Dispatched) == 0 {
		t.Fatalf("fan-out: %+v %v", s, err)
	}
	l.summaries = append(l.summaries, s)
	l.drain()
	overdue := 0
	for _, s := range l.summaries {
		overdue += s.Count(jobs.OutOverdue)
	}
	if overdue != n {
		t.Errorf("%d certifications went overdue, want %d", overdue, n)
	}
	for _, ent := range ents {
		hs := e.history("ENT#" + ent)
		if len(hs) != 1 || hs[0].To != string(domain.CertOverdue) {
			t.Errorf("%s: history %+v, want one overdue transition", ent, hs)
		}
	}
}

// A part that is not the job's is refused, before any read.
func TestHandlerRefusesUnknownPart(t *testing.T) {
	e := newEnv(t)
	h := &jobs.Handler{Job: e.reminders(), Log: discard}
	e.counter.Reset()
	for _, part := range []string{"cert/00", "remind/16", "remind/", "cases"} {
		ev := fmt.Sprintf(`{"time":"2027-10-01T01:00:00Z","part":%q}`, part)
		if _, err := h.Handle(ctx, json.RawMessage(ev)); err == nil {
			t.Errorf("part %q accepted", part)
		}
	}
	if e.counter.TotalCalls() != 0 {
		t.Errorf("%d calls", e.counter.TotalCalls())
	}
}
