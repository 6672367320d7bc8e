package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"microcert/infra/localstack"
	"microcert/infra/localstack/stacktest"
	"microcert/shared/domain"
	"microcert/shared/store"
)

// TestScheduledJobs invokes ReminderFunction and ExpiryFunction once each
// through the local stack (aws-lambda-rie, the built bootstraps), as of the
// dates of the sample events in events/, and reads the result through the
// HTTP API. The certifications are seeded through the store against the
// stack's DynamoDB: an approval through the real review flow would cost
// minutes and could not give them the expiry dates these runs need.
func TestScheduledJobs(t *testing.T) {
	ownStack(t)
	st := stacktest.Start(t)
	token := st.Bearer(t, "applicant", "jobs-owner")

	// The enterprise through the API, its certifications through the store.
	n := int(time.Now().UnixNano() % 1_000_000)
	res := st.Do(t, "POST", "/v1/enterprises", token, map[string]any{
		"name":                "深圳市定时任务科技有限公司",
		"uscc":                domain.SampleUSCC(n),
		"legalRep":            map[string]any{"name": "李四", "idNumber": domain.SampleIDNumber(n), "phone": "13812345678"},
		"registeredAddress":   "广东省深圳市南山区科技园路1号",
		"operatingAddress":    "广东省深圳市南山区科技园路1号",
		"regionCode":          "440300",
		"hasCorporateAccount": true,
	}).WantStatus(t, http.StatusCreated)
	var ent struct {
		ID string `json:"id"`
	}
	res.JSON(t, &ent)

	// wecom expires at the end of 27 November 2027 (Beijing time): its
	// 60-day reminder is due on 28 September; it is overdue from 28
	// November.
	expires := domain.EndOfBeijingDay(time.Date(2027, 11, 27, 12, 0, 0, 0, domain.Beijing()))
	issued := expires.AddDate(-1, 0, 0)
	cert := &domain.Certification{EnterpriseID: ent.ID, Type: domain.CertWeCom, Status: domain.CertActive,
		IssuedAt: issued, ExpiresAt: expires, CaseID: domain.NewIDAt(issued), Version: 1, Cycle: 1, UpdatedAt: issued}
	cert.RemindAt = cert.NextReminderAt(issued, domain.DefaultRules, nil)
	db := store.New(st.DynamoDB(), st.TableName(), domain.DefaultRules)
	if err := db.Commit(context.Background(), &domain.Change{Certifications: []domain.CertificationWrite{{Certification: cert, Create: true}}}); err != nil {
		t.Fatal(err)
	}

	run := func(fn, event string) map[string]any {
		t.Helper()
		ev, err := os.ReadFile(filepath.Join(stacktest.RepoRoot(t), "events", event))
		if err != nil {
			t.Fatal(err)
		}
		var sum map[string]any
		if err := json.Unmarshal(st.MustInvoke(t, fn, ev), &sum); err != nil {
			t.Fatal(err)
		}
		if sum["complete"] != true {
			t.Fatalf("%s: %v", fn, sum)
		}
		return sum
	}
	notes := func() []map[string]any {
		t.Helper()
		var page struct {
			Items []map[string]any `json:"items"`
		}
		st.Do(t, "GET", "/v1/enterprises/"+ent.ID+"/notifications", token, nil, "Accept-Language", "en").
			WantStatus(t, http.StatusOK).JSON(t, &page)
		return page.Items
	}
	status := func() string {
		t.Helper()
		var e struct {
			Certifications []map[string]any `json:"certifications"`
		}
		st.Do(t, "GET", "/v1/enterprises/"+ent.ID, token, nil).WantStatus(t, http.StatusOK).JSON(t, &e)
		for _, c := range e.Certifications {
			if c["type"] == "wecom" {
				s, _ := c["status"].(string)
				return s
			}
		}
		t.Fatalf("no wecom certification in %v", e.Certifications)
		return ""
	}

	// 28 September 2027: the 60-day reminder.
	sum := run("ReminderFunction", "schedule-reminder-2027-09-28.json")
	if c := sum["counts"].(map[string]any); c["sent"] != float64(1) || sum["now"] != "2027-09-28T01:00:00Z" {
		t.Errorf("reminder run: %v", sum)
	}
	ns := notes()
	if len(ns) != 1 || ns[0]["kind"] != "reminder" || !strings.Contains(ns[0]["body"].(string), "27 November 2027") {
		t.Fatalf("notifications after the reminder run: %v", ns)
	}
	// Lambda's retry of the same event sends nothing more.
	if sum := run("ReminderFunction", "schedule-reminder-2027-09-28.json"); sum["read"] != float64(0) {
		t.Errorf("rerun: %v", sum)
	}

	// 28 November 2027: overdue, capabilities suspended.
	if got := status(); got != "active" {
		t.Fatalf("status before the expiry run: %s", got)
	}
	sum = run("ExpiryFunction", "schedule-expiry-2027-11-28.json")
	if c := sum["counts"].(map[string]any); c["overdue"] != float64(1) {
		t.Errorf("expiry run: %v", sum)
	}
	if got := status(); got != "overdue" {
		t.Errorf("status after the expiry run: %s, want overdue", got)
	}
	if ns := notes(); len(ns) != 2 || ns[0]["kind"] != "expiry" {
		t.Errorf("notifications after the expiry run (newest first): %v", ns)
	}

	// 28 December 2027 (day 31): lapsed. The event is built here the way
	// the local scheduler builds it.
	out := st.MustInvoke(t, "ExpiryFunction", localstack.ScheduledEvent("ExpiryFunction", "Daily", time.Date(2027, 12, 28, 1, 0, 0, 0, time.UTC)))
	if !strings.Contains(string(out), `"lapsed":1`) {
		t.Errorf("lapse run: %s", out)
	}
	if got := status(); got != "lapsed" {
		t.Errorf("status after day 31: %s, want lapsed", got)
	}

	// One summary line per run, and EMF metrics on stdout.
	if n := len(st.WaitLogs(t, "ExpiryFunction", `"run summary"`, 2)); n != 2 {
		t.Errorf("%d expiry summary lines, want 2", n)
	}
	if emf := st.WaitLogs(t, "ReminderFunction", `"_aws"`, 2); len(emf) != 2 || !strings.Contains(emf[0], `"Namespace":"microcert"`) {
		t.Errorf("reminder EMF lines: %v", emf)
	}
}
