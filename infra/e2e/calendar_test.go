package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"microcert/infra/localstack"
	"microcert/infra/localstack/stacktest"
	"microcert/shared/domain"
	"microcert/shared/holidays"
	"microcert/shared/store"
)

// TestCalendarAsData runs the operator's procedure against the local
// stack: a case whose review deadline ran past the built-in calendar is
// provisional; the daily job reports calendar_days_left and rechecks it;
// a bad document is refused without harm; once next year's schedule is
// uploaded under config/calendar.json, the next run settles the deadline,
// which the API then shows. Its own stack: the job runs as of 2027-12.
func TestCalendarAsData(t *testing.T) {
	ownStack(t)
	st := stacktest.Start(t)
	token := st.Bearer(t, "applicant", "calendar-owner")
	n := int(time.Now().UnixNano() % 1_000_000)
	var ent, cs struct {
		ID string `json:"id"`
	}
	st.Do(t, "POST", "/v1/enterprises", token, enterpriseBody(func(m map[string]any) {
		m["uscc"] = domain.SampleUSCC(n)
		m["legalRep"].(map[string]any)["idNumber"] = domain.SampleIDNumber(n)
	})).WantStatus(t, http.StatusCreated).JSON(t, &ent)
	st.Do(t, "POST", "/v1/cases", token, map[string]any{"enterpriseId": ent.ID, "kind": "initial", "types": []string{"wecom"}}).
		WantStatus(t, http.StatusCreated).JSON(t, &cs)

	// Submitted on 2027-12-28 when the data ended on 2027-12-31 (moved
	// there through the store: the API's clock is the real one).
	db, ctx := store.New(st.DynamoDB(), st.TableName(), domain.DefaultRules), context.Background()
	c, err := db.GetCase(ctx, cs.ID)
	if err != nil {
		t.Fatal(err)
	}
	next := *c
	if _, err := next.Submit(domain.Actor{UserID: "calendar-owner", Roles: []domain.Role{domain.RoleApplicant}},
		time.Date(2027, 12, 28, 10, 0, 0, 0, domain.Beijing()), domain.DefaultRules, domain.BuiltinCalendar()); err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(ctx, &domain.Change{Cases: []domain.CaseWrite{domain.UpdateCase(c, &next)}}); err != nil {
		t.Fatal(err)
	}
	view := func() (due string, provisional bool) {
		t.Helper()
		var v struct {
			ReviewDueAt          string `json:"reviewDueAt"`
			ReviewDueProvisional bool   `json:"reviewDueProvisional"`
		}
		res := st.Do(t, "GET", "/v1/cases/"+cs.ID, token, nil).WantStatus(t, http.StatusOK)
		res.JSON(t, &v)
		return v.ReviewDueAt, v.ReviewDueProvisional
	}
	if due, prov := view(); due != "2028-01-12T15:59:59.000Z" || !prov {
		t.Fatalf("submitted: reviewDueAt %s provisional %v", due, prov)
	}

	type summary struct {
		Counts   map[string]int     `json:"counts"`
		Calendar jobsCalendarResult `json:"calendar"`
	}
	expiry := func(day int) summary {
		t.Helper()
		out := st.MustInvoke(t, "ExpiryFunction", localstack.ScheduledEvent("ExpiryFunction", "Daily", time.Date(2027, 12, day, 1, 0, 0, 0, time.UTC)))
		var s summary
		if err := json.Unmarshal(out, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}

	// 12-29: no document. Two days left; the deadline stays provisional.
	s := expiry(29)
	if s.Calendar != (jobsCalendarResult{Source: "lunar-go", LastDay: "2027-12-31", DaysLeft: 2}) || s.Counts["review_due_provisional"] != 1 {
		t.Fatalf("12-29 run: %+v", s)
	}
	if emf := st.WaitLogs(t, "ExpiryFunction", `"calendar_days_left":2`, 1); len(emf) != 1 || !strings.Contains(emf[0], `"Namespace":"microcert"`) {
		t.Fatalf("EMF lines with calendar_days_left: %v", emf)
	}

	// A document with a gap is refused: the built-in data stays in force.
	st.PutObject(t, holidays.Key, "application/json", []byte(`{"source":"typo","years":[{"year":2029}]}`))
	if s := expiry(29); s.Calendar.LastDay != "2027-12-31" {
		t.Fatalf("after a bad upload: %+v", s)
	}
	if bad := st.WaitLogs(t, "ExpiryFunction", `"alarm":"calendar_invalid"`, 1); len(bad) == 0 || !strings.Contains(bad[0], "year 2028 is missing") {
		t.Fatalf("no calendar_invalid log: %v", bad)
	}

	// 12-30: next year's schedule is uploaded; the run settles the
	// deadline: 12-29, 12-30, 12-31, (2028-01-01..03 off), 01-04, 01-05.
	st.PutObject(t, holidays.Key, "application/json", []byte(`{
	  "source": "e2e notice",
	  "years": [{"year": 2028, "holidays": ["2028-01-01", "2028-01-02", "2028-01-03"], "workdays": []}]
	}`))
	s = expiry(30)
	if s.Calendar != (jobsCalendarResult{Source: "lunar-go + e2e notice", LastDay: "2028-12-31", DaysLeft: 367}) || s.Counts["review_due_settled"] != 1 {
		t.Fatalf("12-30 run: %+v", s)
	}
	if due, prov := view(); due != "2028-01-05T15:59:59.000Z" || prov {
		t.Fatalf("settled: reviewDueAt %s provisional %v", due, prov)
	}
}

// jobsCalendarResult is the calendar part of a job's summary.
type jobsCalendarResult struct {
	Source   string `json:"source"`
	LastDay  string `json:"lastDay"`
	DaysLeft int    `json:"daysLeft"`
}
