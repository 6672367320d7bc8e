package certsvc

import (
	"context"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"microcert/shared/domain"
	"microcert/shared/optimistic"
)

// The admins' money: lists of refunds and discrepancies, resolving a
// discrepancy, the monthly subsidy report. Admins only; every call is
// audited (a read in its own append-only entry, a change in the change's
// transaction).

// MoneyStore is the part of Store these use cases read.
type MoneyStore interface {
	ListRefunds(ctx context.Context, f domain.RefundFilter, p domain.Page) ([]domain.Refund, string, error)
	ListDiscrepancies(ctx context.Context, f domain.DiscrepancyFilter, p domain.Page) ([]domain.Discrepancy, string, error)
	GetDiscrepancy(ctx context.Context, id string) (*domain.Discrepancy, error)
	SubsidyEntries(ctx context.Context, month string) ([]domain.SubsidyEntry, error)
}

// maxResolveNoteChars bounds an admin's note on a discrepancy.
const maxResolveNoteChars = 1000

// audit writes an admin's read as its own entry.
func (s *Service) audit(ctx context.Context, by domain.Actor, action, target string) error {
	now := s.clock.Now()
	return s.store.Commit(ctx, &domain.Change{Audits: []domain.AuditEntry{{ID: domain.NewIDAt(now), At: now,
		ActorID: by.UserID, Role: by.MainRole(), Action: action, Target: target}}})
}

// ListRefunds lists refunds, newest first, for admins.
func (s *Service) ListRefunds(ctx context.Context, by domain.Actor, f domain.RefundFilter, p domain.Page) ([]domain.Refund, string, error) {
	m, err := s.adminMoney(by)
	if err != nil {
		return nil, "", err
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, "", invalidField("status", "invalid_value", "status 无效。", "status is not a refund status.")
	}
	if f.CaseID != "" && !domain.ValidID(f.CaseID) {
		return nil, "", invalidField("caseId", "invalid_format", "caseId 格式无效。", "caseId is not an id.")
	}
	if f.Reason != "" && !validReason(f.Reason) {
		return nil, "", invalidField("reason", "invalid_value", "reason 无效。", "reason is not a refund reason.")
	}
	items, next, err := m.ListRefunds(ctx, f, p)
	if err != nil {
		return nil, "", err
	}
	return items, next, s.audit(ctx, by, "refunds_list", filterTarget("status", string(f.Status), "reason", string(f.Reason), "caseId", f.CaseID))
}

func validReason(r domain.RefundReason) bool {
	for _, x := range domain.RefundReasons {
		if x == r {
			return true
		}
	}
	return false
}

// ListDiscrepancies lists discrepancies, latest statement day first.
func (s *Service) ListDiscrepancies(ctx context.Context, by domain.Actor, f domain.DiscrepancyFilter, p domain.Page) ([]domain.Discrepancy, string, error) {
	m, err := s.adminMoney(by)
	if err != nil {
		return nil, "", err
	}
	switch {
	case f.Status != "" && f.Status != domain.DiscrepancyOpen && f.Status != domain.DiscrepancyResolved:
		return nil, "", invalidField("status", "invalid_value", "status 必须是 open 或 resolved。", "status must be open or resolved.")
	case f.Kind != "" && !f.Kind.Valid():
		return nil, "", invalidField("kind", "invalid_value", "kind 无效。", "kind is not a discrepancy kind.")
	case f.Source != "" && !f.Source.Valid():
		return nil, "", invalidField("source", "invalid_value", "source 必须是 payments 或 bank。", "source must be payments or bank.")
	}
	for _, d := range []struct{ name, v string }{{"from", f.FromDay}, {"to", f.ToDay}} {
		if d.v == "" {
			continue
		}
		if _, err := time.Parse("2006-01-02", d.v); err != nil {
			return nil, "", invalidField(d.name, "invalid_date", d.name+" 必须是 YYYY-MM-DD。", d.name+" must be YYYY-MM-DD.")
		}
	}
	items, next, err := m.ListDiscrepancies(ctx, f, p)
	if err != nil {
		return nil, "", err
	}
	return items, next, s.audit(ctx, by, "discrepancies_list", filterTarget("status", string(f.Status), "kind", string(f.Kind),
		"source", string(f.Source), "from", f.FromDay, "to", f.ToDay))
}

// ResolveDiscrepancy closes a discrepancy with the admin's note (what was
// done about it), under its version, audited in the same transaction.
func (s *Service) ResolveDiscrepancy(ctx context.Context, by domain.Actor, id, note string) (*domain.Discrepancy, error) {
	m, err := s.adminMoney(by)
	if err != nil {
		return nil, err
	}
	note = strings.TrimSpace(note)
	if f := textField("note", note, 1, maxResolveNoteChars); f != nil {
		return nil, fieldsError(f)
	}
	if !domain.ValidID(id) {
		return nil, domain.ErrNotFound
	}
	var out *domain.Discrepancy
	err = optimistic.Retry(ctx, func(ctx context.Context) error {
		prev, err := m.GetDiscrepancy(ctx, id)
		if err != nil {
			return err
		}
		next := *prev
		now := s.clock.Now()
		if err := next.Resolve(by, note, now); err != nil {
			return err
		}
		ch := &domain.Change{Discrepancies: []domain.DiscrepancyWrite{domain.UpdateDiscrepancy(prev, &next)},
			Audits: []domain.AuditEntry{{ID: domain.NewIDAt(now), At: now, ActorID: by.UserID, Role: by.MainRole(),
				Action: "discrepancy_resolve", CaseID: prev.CaseID, Target: id}}}
		if err := s.store.Commit(ctx, ch); err != nil {
			return err
		}
		out = &next
		return nil
	})
	return out, err
}

// SubsidyLine is one case of a program's month.
type SubsidyLine struct {
	CaseID       string
	EnterpriseID string
	Kind         domain.SubsidyKind
	SubsidyFen   int64
	At           time.Time
}

// SubsidyGroup is what one program owes for one region in a month.
type SubsidyGroup struct {
	Program    string
	Name       domain.Text
	RegionCode string
	Cases      int   // subsidised fees paid in the month
	Reversals  int   // of those or earlier months', refunded in the month
	ClaimFen   int64 // the net amount to claim
	Lines      []SubsidyLine
}

// SubsidyReport is the monthly report of what to claim from each regional
// program.
type SubsidyReport struct {
	Month    string
	Groups   []SubsidyGroup
	TotalFen int64
}

// SubsidyReport builds the report of a Beijing month ("2026-09"): every fee
// a program subsidised that was paid in the month (its claim), less those
// refunded in the month (a withdrawal before review; reversed in the month
// it happened), per program and region.
func (s *Service) SubsidyReport(ctx context.Context, by domain.Actor, month string) (*SubsidyReport, error) {
	m, err := s.adminMoney(by)
	if err != nil {
		return nil, err
	}
	if t, err := time.Parse("2006-01", month); err != nil || t.Format("2006-01") != month {
		return nil, invalidField("month", "invalid_month", "month 必须是 YYYY-MM。", "month must be YYYY-MM.")
	}
	entries, err := m.SubsidyEntries(ctx, month)
	if err != nil {
		return nil, err
	}
	names := map[string]domain.Text{}
	for _, p := range s.rules.Subsidies {
		names[p.Code] = p.Name
	}
	byKey := map[string]*SubsidyGroup{}
	rep := &SubsidyReport{Month: month, Groups: []SubsidyGroup{}}
	for _, e := range entries {
		key := e.Program + "#" + e.RegionCode
		g := byKey[key]
		if g == nil {
			g = &SubsidyGroup{Program: e.Program, Name: names[e.Program], RegionCode: e.RegionCode}
			byKey[key] = g
		}
		if e.Kind == domain.SubsidyClaim {
			g.Cases++
		} else {
			g.Reversals++
		}
		g.ClaimFen += e.SubsidyFen
		rep.TotalFen += e.SubsidyFen
		g.Lines = append(g.Lines, SubsidyLine{CaseID: e.CaseID, EnterpriseID: e.EnterpriseID, Kind: e.Kind, SubsidyFen: e.SubsidyFen, At: e.At})
	}
	for _, g := range byKey {
		sort.Slice(g.Lines, func(i, j int) bool { return g.Lines[i].At.Before(g.Lines[j].At) })
		rep.Groups = append(rep.Groups, *g)
	}
	sort.Slice(rep.Groups, func(i, j int) bool {
		if rep.Groups[i].Program != rep.Groups[j].Program {
			return rep.Groups[i].Program < rep.Groups[j].Program
		}
		return rep.Groups[i].RegionCode < rep.Groups[j].RegionCode
	})
	return rep, s.audit(ctx, by, "subsidy_report", "month="+month)
}

func (s *Service) adminMoney(by domain.Actor) (MoneyStore, error) {
	if !by.Has(domain.RoleAdmin) {
		return nil, domain.ErrForbidden
	}
	return s.store, nil
}

// filterTarget records a list's filters in its audit entry.
func filterTarget(pairs ...string) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			parts = append(parts, pairs[i]+"="+pairs[i+1])
		}
	}
	t := strings.Join(parts, "&")
	if utf8.RuneCountInString(t) > 200 {
		t = string([]rune(t)[:200])
	}
	return t
}
