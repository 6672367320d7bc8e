package domain

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNextDepositAt(t *testing.T) {
	r := DefaultRules
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	starts := func(ago ...time.Duration) []DepositStart {
		var out []DepositStart
		for _, a := range ago {
			out = append(out, DepositStart{At: now.Add(-a), CaseID: "c"})
		}
		return out
	}
	lockedUntil := now.Add(5 * time.Hour)
	tests := []struct {
		name string
		log  *DepositLog
		want time.Time
	}{
		{"never started", nil, now},
		{"two in the window", &DepositLog{Starts: starts(20*day, 1*day)}, now},
		{"three in the window: the oldest leaves it", &DepositLog{Starts: starts(20*day, 10*day, 1*day)}, now.Add(10 * day)},
		{"three, one already outside", &DepositLog{Starts: starts(31*day, 10*day, 1*day)}, now},
		{"four across cases: the second-oldest counted one frees", &DepositLog{Starts: starts(29*day, 25*day, 10*day, 1*day)}, now.Add(5 * day)},
		{"lock cool-down", &DepositLog{Starts: starts(1 * day), LockedUntil: &lockedUntil}, lockedUntil},
		{"lock and a full window: the later", &DepositLog{Starts: starts(29*day, 10*day, 1*day), LockedUntil: &lockedUntil}, now.Add(day)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.log.NextDepositAt(now, r); !got.Equal(tt.want) {
				t.Errorf("NextDepositAt = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDepositLogWithStartKeepsTheWindow(t *testing.T) {
	r := DefaultRules
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	old := DepositStart{At: now.Add(-40 * 24 * time.Hour), CaseID: "c0"}
	recent := DepositStart{At: now.Add(-24 * time.Hour), CaseID: "c1"}
	l := &DepositLog{EnterpriseID: "e", Starts: []DepositStart{old, recent}, Version: 4}
	got := l.WithStart("e", DepositStart{At: now, CaseID: "c2"}, r)
	if diff := cmp.Diff([]DepositStart{recent, {At: now, CaseID: "c2"}}, got.Starts); diff != "" {
		t.Errorf("starts (-want +got):\n%s", diff)
	}
	if len(l.Starts) != 2 {
		t.Errorf("the read log was changed: %+v", l.Starts)
	}
	w := SaveDepositLog(l, got)
	if w.Create || w.ExpectVersion != 4 || w.Log.Version != 5 {
		t.Errorf("write %+v", w)
	}
	locked := l.WithLock("e", now, r)
	if !locked.Locked(now) || locked.Locked(now.Add(r.DepositLockCooldown)) {
		t.Errorf("lock until %v", locked.LockedUntil)
	}
	if w := SaveDepositLog(nil, got); !w.Create || w.Log.Version != 1 {
		t.Errorf("first write %+v", w)
	}
}

func TestCheckSlotsFree(t *testing.T) {
	st := &EnterpriseState{OpenCases: map[string]string{"wecom": "c-open", SlotProfile: "c-change"}}
	tests := []struct {
		name    string
		c       *Case
		wantErr bool
	}{
		{"other type", &Case{ID: "n", Kind: KindInitial, Types: []CertType{CertMiniProgram}}, false},
		{"same type, another kind", &Case{ID: "n", Kind: KindAnnualReview, Types: []CertType{CertWeCom}}, true},
		{"one of several types", &Case{ID: "n", Kind: KindInitial, Types: []CertType{CertMiniProgram, CertWeCom}}, true},
		{"the holder itself", &Case{ID: "c-open", Kind: KindInitial, Types: []CertType{CertWeCom}}, false},
		{"a second change", &Case{ID: "n", Kind: KindChange, Types: []CertType{CertMiniProgram}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := st.CheckSlotsFree(tt.c)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && CodeOf(err) != "case_already_open" {
				t.Errorf("code %s", CodeOf(err))
			}
		})
	}
}

func TestSlotReleases(t *testing.T) {
	st := &EnterpriseState{OpenCases: map[string]string{"wecom": "c-newer", "mini_program": "c-old"}}
	both := &Case{ID: "c-old", Kind: KindInitial, Types: []CertType{CertWeCom, CertMiniProgram, CertOfficialAccount}}
	tests := []struct {
		name string
		st   *EnterpriseState
		c    *Case
		want []string
	}{
		{"its own and free subjects, not another case's", st, both, []string{"mini_program", "official_account"}},
		{"the holder releases its slot", st, &Case{ID: "c-newer", Kind: KindInitial, Types: []CertType{CertWeCom}}, []string{"wecom"}},
		{"no state: every subject, on the store's condition", nil, both, []string{"wecom", "mini_program", "official_account"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, w := range tt.st.SlotReleases(tt.c) {
				if !w.Release || w.CaseID != tt.c.ID {
					t.Errorf("write %+v: want a release by %s", w, tt.c.ID)
				}
				got = append(got, w.Subject)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("subjects released (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRegisteredNameKey(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"深圳市微认证科技有限公司", "深圳市微认证科技有限公司", true},
		{"微认证（深圳）科技有限公司", "微认证(深圳)科技有限公司", true},
		{"微认证 (深圳) 科技有限公司", "微认证（深圳）科技有限公司", true},
		{"ＡＢＣ科技有限公司", "abc科技有限公司", true},
		{"深圳市微认证科技有限公司", "深圳市微认证科技", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got := SameRegisteredName(tt.a, tt.b); got != tt.same {
			t.Errorf("SameRegisteredName(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}

// Bindings: a passed face check counts for the legal rep it verified, a
// verified deposit for an account in the enterprise's current name.
func TestRequirementBindings(t *testing.T) {
	now := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		mod      func(e *Enterprise, c *Case)
		wantDue  []string
		wantCode string
	}{
		{"bound and current", func(e *Enterprise, c *Case) {}, []string{}, ""},
		{"legal rep renamed after the check", func(e *Enterprise, c *Case) { e.LegalRep.Name = "李四" },
			[]string{ReqFaceVerification}, "legal_rep_changed"},
		{"legal rep ID changed after the check", func(e *Enterprise, c *Case) { e.LegalRep.IDNumber = "110105194912310029" },
			[]string{ReqFaceVerification}, "legal_rep_changed"},
		{"an unbound passed check does not count", func(e *Enterprise, c *Case) { c.Face.LegalRep = "" },
			[]string{ReqFaceVerification}, "legal_rep_changed"},
		{"phone change keeps the binding", func(e *Enterprise, c *Case) { e.LegalRep.Phone = "13900000000" }, []string{}, ""},
		{"enterprise renamed after the deposit", func(e *Enterprise, c *Case) { e.Name = "北京另一家有限公司" },
			[]string{ReqBankVerification}, "account_name_mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, c, docs := reqFixture(now)
			tt.mod(e, c)
			req := ComputeRequirements(e, c, docs, now, DefaultRules)
			if diff := cmp.Diff(tt.wantDue, req.CurrentlyDue); diff != "" {
				t.Errorf("currentlyDue (-want +got):\n%s", diff)
			}
			if tt.wantCode != "" && (len(req.Errors) != 1 || req.Errors[0].Code != tt.wantCode) {
				t.Errorf("errors = %+v, want one %s", req.Errors, tt.wantCode)
			}
		})
	}
}

// Targeted change requests: each sent-back item is due until it is done
// again after the request.
func TestRedoItems(t *testing.T) {
	now := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
	asked := now.Add(-30 * time.Minute)
	later := now.Add(-10 * time.Minute)
	tests := []struct {
		name    string
		redo    []RedoItem
		mod     func(c *Case, docs *[]Document)
		wantDue []string
	}{
		{"license sent back, nothing done", []RedoItem{{Requirement: "business_license", Reason: ReasonDocumentUnclear, Since: asked}},
			func(*Case, *[]Document) {}, []string{"business_license"}},
		{"license uploaded again after the request", []RedoItem{{Requirement: "business_license", Reason: ReasonDocumentUnclear, Since: asked}},
			func(c *Case, docs *[]Document) {
				*docs = append(*docs, Document{ID: "z", CaseID: "c1", DocType: DocBusinessLicense, Status: DocPassed, CreatedAt: later})
			}, []string{}},
		{"face sent back, old pass does not count", []RedoItem{{Requirement: ReqFaceVerification, Reason: ReasonLegalRepOutdated, Since: asked}},
			func(c *Case, _ *[]Document) { old := asked.Add(-time.Hour); c.Face.CompletedAt = &old }, []string{ReqFaceVerification}},
		{"face done again", []RedoItem{{Requirement: ReqFaceVerification, Reason: ReasonLegalRepOutdated, Since: asked}},
			func(c *Case, _ *[]Document) { c.Face.CompletedAt = &later }, []string{}},
		{"explanation rewritten", []RedoItem{{Requirement: ReqExplanation, Reason: ReasonOther, Note: "更具体", Since: asked}},
			func(c *Case, _ *[]Document) { c.ExplanationAt = &later }, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, c, docs := reqFixture(now)
			c.Redo = tt.redo
			tt.mod(c, &docs)
			req := ComputeRequirements(e, c, docs, now, DefaultRules)
			if diff := cmp.Diff(tt.wantDue, req.CurrentlyDue); diff != "" {
				t.Errorf("currentlyDue (-want +got):\n%s", diff)
			}
			if len(tt.wantDue) > 0 && (len(req.Errors) == 0 || req.Errors[0].Code != "changes_requested") {
				t.Errorf("errors = %+v, want changes_requested", req.Errors)
			}
		})
	}
}

// The change kind: what it needs follows what it changes, it is free, and
// its requirements are checked against the new values.
func TestChangeCaseRequirements(t *testing.T) {
	name := "北京新名称科技有限公司"
	addr := "北京市海淀区中关村大街1号"
	no, yes := false, true
	rep := LegalRep{Name: "王五", IDNumber: "11010519491231002X", Phone: "13700000000"}
	tests := []struct {
		name   string
		change *ProfileChange
		want   []string
	}{
		{"new name", &ProfileChange{Name: &name}, []string{"business_license"}},
		{"new addresses", &ProfileChange{RegisteredAddress: &addr, OperatingAddress: &addr}, []string{"business_license"}},
		{"new legal rep", &ProfileChange{LegalRep: &rep}, []string{"legal_rep_id_front", "legal_rep_id_back", ReqFaceVerification}},
		{"account given up", &ProfileChange{HasCorporateAccount: &no}, []string{ReqQRVerification, "office_video"}},
		{"account opened", &ProfileChange{HasCorporateAccount: &yes}, []string{"bank_account_proof", ReqBankVerification}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Case{Kind: KindChange, Types: []CertType{CertWeCom}, Change: tt.change}
			if diff := cmp.Diff(tt.want, RequiredItems(c, true, 0)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if fee := FeeFor(KindChange, "110105", DefaultRules); fee.PayableFen != 0 {
				t.Errorf("a change costs %d fen", fee.PayableFen)
			}
		})
	}
	// A face check bound to the old legal rep does not verify the new one.
	now := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
	e, c, _ := reqFixture(now)
	c.Kind, c.Change = KindChange, &ProfileChange{LegalRep: &rep}
	st := &EnterpriseState{Enterprise: e}
	req := CaseRequirements(st, c, nil, now, DefaultRules)
	if !contains(req.CurrentlyDue, ReqFaceVerification) {
		t.Errorf("face check of the old legal rep counted for the new one: %+v", req)
	}
	c.Face.LegalRep = LegalRepFingerprint(rep)
	if req := CaseRequirements(st, c, nil, now, DefaultRules); contains(req.CurrentlyDue, ReqFaceVerification) {
		t.Errorf("face check of the new legal rep did not count: %+v", req)
	}
}

func TestChangeTransitions(t *testing.T) {
	now := time.Date(2026, 9, 24, 2, 0, 0, 0, time.UTC)
	active := Certification{Type: CertWeCom, Status: CertActive, IssuedAt: now.AddDate(0, -1, 0), ExpiresAt: now.AddDate(1, 0, 0)}
	if _, err := CanOpenChange(nil, now, DefaultRules); CodeOf(err) != "change_not_needed" {
		t.Errorf("uncertified: %v", err)
	}
	ts, err := CanOpenChange([]Certification{active}, now, DefaultRules)
	if err != nil || len(ts) != 1 || ts[0] != CertWeCom {
		t.Errorf("certified: %v %v", ts, err)
	}
	// A change case moves through the same state machine as any case.
	c := &Case{Kind: KindChange, Status: CaseDraft, Types: ts}
	for _, to := range []CaseStatus{CaseSubmitted, CaseInReview, CaseChangesRequested, CaseSubmitted, CaseInReview, CaseApproved} {
		if _, err := c.Transition(DefaultRules, to, SystemActor, now, nil, ""); err != nil {
			t.Fatalf("-> %s: %v", to, err)
		}
	}
	if subjects := c.SlotSubjects(); len(subjects) != 1 || subjects[0] != SlotProfile {
		t.Errorf("slots %v", subjects)
	}
	name := "新名称"
	e := Enterprise{Name: "旧名称", USCC: SampleUSCCIn("110105", 1)}
	if got := (&ProfileChange{Name: &name}).Apply(e); got.Name != name || got.USCC != e.USCC {
		t.Errorf("apply = %+v", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
