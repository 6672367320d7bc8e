package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"microcert/infra/localstack"
	"microcert/infra/localstack/stacktest"
	"microcert/infra/template"
	"microcert/shared/config"
	"microcert/shared/domain"
	"microcert/shared/store"
)

// TestScheduledRunFansOut runs a reminder day through the local stack with
// the inline budget cut to a millisecond (JOBS_INLINE_BUDGET, set for this
// stack only), so that the scheduled run hands its parts over at once: one
// asynchronous invocation of ReminderFunction per shard, through the local
// Lambda Invoke API, as a WeChat-sized day does after a minute. Every due
// reminder is sent exactly once, and Lambda's retry of the scheduled event
// sends nothing more.
func TestScheduledRunFansOut(t *testing.T) {
	ownStack(t)
	st := stacktest.Start(t, stacktest.WithEnv(config.JobsInlineBudgetEnv, "1ms"))
	db := store.New(st.DynamoDB(), st.TableName(), domain.DefaultRules)
	ctx := context.Background()

	// Certifications whose 60-day reminder is due on 28 September 2027,
	// spread over the shards by their keys (three types per enterprise).
	expires := domain.EndOfBeijingDay(time.Date(2027, 11, 27, 12, 0, 0, 0, domain.Beijing()))
	issued := expires.AddDate(-1, 0, 0)
	const enterprises = 12
	var ents []string
	for range enterprises {
		ent := domain.NewIDAt(issued)
		ents = append(ents, ent)
		var ch domain.Change
		for _, typ := range []domain.CertType{domain.CertWeCom, domain.CertMiniProgram, domain.CertOfficialAccount} {
			c := &domain.Certification{EnterpriseID: ent, Type: typ, Status: domain.CertActive, IssuedAt: issued, ExpiresAt: expires,
				CaseID: domain.NewIDAt(issued), Version: 1, Cycle: 1, UpdatedAt: issued}
			c.RemindAt = c.NextReminderAt(issued, domain.DefaultRules, nil)
			ch.Certifications = append(ch.Certifications, domain.CertificationWrite{Certification: c, Create: true})
		}
		if err := db.Commit(ctx, &ch); err != nil {
			t.Fatal(err)
		}
	}
	due := enterprises * 3

	ev, err := os.ReadFile(filepath.Join(stacktest.RepoRoot(t), "events", "schedule-reminder-2027-09-28.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum map[string]any
	if err := json.Unmarshal(st.MustInvoke(t, "ReminderFunction", ev), &sum); err != nil {
		t.Fatal(err)
	}
	if sum["handedOn"] != true {
		t.Fatalf("the scheduled run did not fan out: %v", sum)
	}
	wait, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if err := st.WaitAsync(wait); err != nil {
		t.Fatalf("the fanned-out invocations did not finish: %v", err)
	}

	// One invocation per part, each with its part's name.
	parts := map[string]bool{}
	sent := 0
	for _, line := range st.LogsContaining("ReminderFunction", `"run summary"`) {
		var l struct {
			Part   string         `json:"part"`
			Counts map[string]int `json:"counts"`
		}
		if i := strings.Index(line, "{"); i >= 0 && json.Unmarshal([]byte(line[i:]), &l) == nil && l.Part != "" {
			parts[l.Part] = true
			sent += l.Counts["sent"]
		}
	}
	if len(parts) < 2 {
		t.Errorf("parts run in their own invocations: %v, want the shards holding the %d reminders", parts, due)
	}
	if sent != due {
		t.Errorf("the parts' summaries count %d sent, want %d", sent, due)
	}

	// Exactly once: one reminder per certification, nothing left due.
	for _, ent := range ents {
		notes, _, err := db.ListNotifications(ctx, ent, domain.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(notes) != 3 {
			t.Errorf("enterprise %s: %d notifications, want one reminder per certification (3)", ent, len(notes))
		}
	}
	var again map[string]any
	if err := json.Unmarshal(st.MustInvoke(t, "ReminderFunction", ev), &again); err != nil {
		t.Fatal(err)
	}
	if c, _ := again["counts"].(map[string]any); again["read"] != float64(0) || c["sent"] != nil {
		t.Errorf("Lambda's retry of the scheduled event: %v, want nothing read or sent", again)
	}
}

// TestInlineBudgetOffInTemplate: JOBS_INLINE_BUDGET exists for the test
// above; a deployed stack always works a scheduled run's first minute
// itself.
func TestInlineBudgetOffInTemplate(t *testing.T) {
	noStack(t)
	tpl, err := template.LoadRepo(stacktest.RepoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tpl.Functions {
		if _, ok := f.Env[config.JobsInlineBudgetEnv]; ok {
			t.Errorf("%s sets %s in template.yaml", f.LogicalID, config.JobsInlineBudgetEnv)
		}
	}
	raw, err := os.ReadFile(filepath.Join(stacktest.RepoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), config.JobsInlineBudgetEnv) {
		t.Errorf("template.yaml mentions %s", config.JobsInlineBudgetEnv)
	}
	if _, ok := localstack.LocalVars(template.Function{}, "", "", "", nil)[config.JobsInlineBudgetEnv]; ok {
		t.Errorf("the local stack sets %s for every run", config.JobsInlineBudgetEnv)
	}
}
