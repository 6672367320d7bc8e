package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"microcert/infra/localstack"
	"microcert/infra/template"
	"microcert/shared/domain"
	"microcert/shared/store"
	"microcert/shared/store/storetest"
)

const repoRoot = "../../../.."

// The command on a local stack (a stand-in DynamoDB named in the state
// folder, as make run leaves it) with legacy data: the owner's membership
// and the slots written, the conflict left and reported; a second run
// writes nothing.
func TestBackfillEnterprisesOnTheLocalStack(t *testing.T) {
	ctx := context.Background()
	env := storetest.Start(t)
	tpl, err := template.LoadRepo(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Client.CreateTable(ctx, tpl.Table.CreateTableInput(tpl.Table.Name)); err != nil {
		t.Fatal(err)
	}
	s := store.New(env.Client, tpl.Table.Name, domain.DefaultRules)
	at := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	profile := func(n int, owner string, withOwner bool) *domain.Enterprise {
		e := &domain.Enterprise{ID: domain.NewIDAt(at), Name: "示例科技有限公司", USCC: domain.SampleUSCC(n),
			LegalRep:          domain.LegalRep{Name: "张三", IDNumber: domain.SampleIDNumber(n), Phone: "13800138000"},
			RegisteredAddress: "深圳市南山区科技园1号", OperatingAddress: "深圳市南山区科技园1号", OwnerID: owner,
			Status: domain.EnterpriseActive, Version: 1, CreatedAt: at, UpdatedAt: at}
		ch := &domain.Change{Enterprises: []domain.EnterpriseWrite{{Enterprise: e, Create: true}}}
		if withOwner {
			ch.Members = []domain.MemberWrite{domain.OwnerMembership(e)}
		}
		if err := s.Commit(ctx, ch); err != nil {
			t.Fatal(err)
		}
		return e
	}
	legacyCase := func(e *domain.Enterprise, types ...domain.CertType) *domain.Case {
		c := &domain.Case{ID: domain.NewIDAt(at), EnterpriseID: e.ID, OpenedBy: e.OwnerID, Kind: domain.KindInitial,
			Types: types, Status: domain.CaseDraft, Version: 1, CreatedAt: at, UpdatedAt: at}
		if err := s.Commit(ctx, &domain.Change{Cases: []domain.CaseWrite{{Case: c, Create: true}}}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	legacy := profile(1, "u1", false)
	c := legacyCase(legacy, domain.CertWeCom, domain.CertOfficialAccount)
	twice := profile(2, "u2", true)
	legacyCase(twice, domain.CertWeCom)
	legacyCase(twice, domain.CertWeCom)

	state := t.TempDir()
	ri, _ := json.Marshal(localstack.RunInfo{PID: os.Getpid(), DynamoDB: env.URL})
	if err := os.WriteFile(filepath.Join(state, "stack.json"), ri, 0o644); err != nil {
		t.Fatal(err)
	}
	backfill := func(wantTail string) {
		t.Helper()
		var out bytes.Buffer
		if err := run([]string{"enterprises", "-state", state, "-batch", "3"}, repoRoot, &out); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), wantTail) || !strings.Contains(out.String(), "next: -from ") {
			t.Errorf("output lacks %q and a cursor:\n%s", wantTail, out.String())
		}
		if n := strings.Count(out.String(), "left for an operator: enterprise "+twice.ID+", wecom"); n != 1 {
			t.Errorf("the conflict reported %d times:\n%s", n, out.String())
		}
	}
	backfill("3 items written, 1 left for an operator\n  enterprise " + twice.ID + ", wecom, cases ")
	st, err := s.GetEnterpriseState(ctx, legacy.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Member("u1") == nil || st.OpenCases["wecom"] != c.ID || st.OpenCases["official_account"] != c.ID {
		t.Errorf("legacy profile after the backfill: members %+v, slots %v", st.Members, st.OpenCases)
	}
	if st, err := s.GetEnterpriseState(ctx, twice.ID); err != nil || len(st.OpenCases) != 0 {
		t.Errorf("the conflicting cases' slots: %v, %v; want none", st.OpenCases, err)
	}
	backfill("0 items written, 1 left for an operator")
}

func TestUnknownBackfill(t *testing.T) {
	err := run([]string{"slots"}, repoRoot, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "one of [shards enterprises]") {
		t.Errorf("err = %v", err)
	}
}
