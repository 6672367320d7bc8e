package store

import (
	"context"
	"sort"
	"testing"
	"time"

	"microcert/shared/domain"
)

func certKeys(cs []domain.Certification) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.EnterpriseID+"/"+string(c.Type))
	}
	return out
}

// dueList is DueCertifications or RemindersDue.
type dueList func(ctx context.Context, shard string, before time.Time, p domain.Page) ([]domain.Certification, string, error)

// allShards reads every shard of list (one Query each), checks that each
// shard's list is earliest first, and returns the keys of all, sorted.
func allShards(t *testing.T, s *Store, list dueList, before time.Time, due func(domain.Certification) time.Time) []string {
	t.Helper()
	out := []string{}
	for _, shard := range s.DueShards() {
		page, next, err := list(ctx, shard, before, domain.Page{Limit: 100})
		if err != nil || next != "" {
			t.Fatalf("shard %s: %v, next %q", shard, err, next)
		}
		for i := 1; i < len(page); i++ {
			if due(page[i]).Before(due(page[i-1])) {
				t.Errorf("shard %s is not earliest first: %s", shard, certKeys(page))
			}
		}
		out = append(out, certKeys(page)...)
	}
	sort.Strings(out)
	return out
}

func remindAt(c domain.Certification) time.Time { return *c.RemindAt }

func transitionAt(c domain.Certification) time.Time {
	return *c.NextTransitionAt(domain.DefaultRules)
}

func sorted(keys ...string) []string { sort.Strings(keys); return keys }

func TestCertificationsAndDueIndex(t *testing.T) {
	s, counter := newStore(t)
	e1 := createEnterprise(t, s, "u1")
	e2 := createEnterprise(t, s, "u2")

	soon := sampleCert(e1.ID, domain.CertWeCom, domain.CertActive, t0.Add(24*time.Hour))
	soon.RemindAt = ptr(t0.Add(-time.Hour))
	later := sampleCert(e1.ID, domain.CertOfficialAccount, domain.CertActive, t0.AddDate(1, 0, 0))
	later.RemindAt = ptr(t0.AddDate(0, 10, 0))
	overdue := sampleCert(e2.ID, domain.CertMiniProgram, domain.CertOverdue, t0.AddDate(0, 0, -40)) // lapses at -10d
	revoked := sampleCert(e2.ID, domain.CertWeCom, domain.CertRevoked, t0.AddDate(0, 0, -400))
	mustCommit(t, s, &domain.Change{Certifications: []domain.CertificationWrite{
		{Certification: soon, Create: true}, {Certification: later, Create: true},
		{Certification: overdue, Create: true}, {Certification: revoked, Create: true},
	}})

	// The enterprise view: profile and certifications in one Query.
	counter.Reset()
	_, certs, err := s.GetEnterprise(ctx, e1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := diff([]domain.Certification{*soon, *later}, certs); d != "" {
		t.Errorf("certifications (-want +got):\n%s", d)
	}
	if counter.TotalCalls() != 1 {
		t.Errorf("GetEnterprise made %d calls", counter.TotalCalls())
	}

	// Due by t0+2d: the overdue one (lapse at -10d) and the active one
	// expiring tomorrow, each shard earliest first; nothing else is read.
	counter.Reset()
	want := sorted(e2.ID+"/mini_program", e1.ID+"/wecom")
	if d := diff(want, allShards(t, s, s.DueCertifications, t0.Add(48*time.Hour), transitionAt)); d != "" {
		t.Errorf("due (-want +got):\n%s", d)
	}
	if counter.ItemsRead() != 2 || counter.Calls("Query") != len(s.DueShards()) {
		t.Errorf("DueCertifications read %d items in %d queries, want 2 in %d", counter.ItemsRead(), counter.Calls("Query"), len(s.DueShards()))
	}

	// Paged one at a time within a shard: the overdue one's, which the
	// other due one shares when its key hashes there too (1 in 16).
	shard := certShard(e2.ID, domain.CertMiniProgram)
	want = []string{e2.ID + "/mini_program"}
	if certShard(e1.ID, domain.CertWeCom) == shard {
		want = []string{e2.ID + "/mini_program", e1.ID + "/wecom"} // earliest first
	}
	var got []string
	cursor := ""
	for i := 0; i < 5; i++ {
		page, next, err := s.DueCertifications(ctx, shard, t0.Add(48*time.Hour), domain.Page{Limit: 1, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, certKeys(page)...)
		if next == "" {
			break
		}
		cursor = next
	}
	if d := diff(want, got); d != "" {
		t.Errorf("paged due (-want +got):\n%s", d)
	}
	// A DueCases cursor is not a DueCertifications cursor, nor is another
	// shard's.
	bad := mustCursor(t, map[string]string{"pk": casePK("x"), "sk": skCase, "duepk": dueCasePK, "duesk": "2026"})
	_, _, err = s.DueCertifications(ctx, shard, t0, domain.Page{Limit: 1, Cursor: bad})
	wantCode(t, err, domain.KindInvalid, "invalid_cursor")
	other := mustCursor(t, map[string]string{"pk": entPK(e2.ID), "sk": certSK(domain.CertMiniProgram), "duepk": dueCertPK + "#" + shard, "duesk": "2026"})
	_, _, err = s.DueCertifications(ctx, LegacyShard, t0, domain.Page{Limit: 1, Cursor: other})
	wantCode(t, err, domain.KindInvalid, "invalid_cursor")

	// Reminders due now: only the one whose RemindAt passed.
	if d := diff([]string{e1.ID + "/wecom"}, allShards(t, s, s.RemindersDue, t0, remindAt)); d != "" {
		t.Errorf("reminders (-want +got):\n%s", d)
	}

	// Cancelled: leaves DueIndex and RemindIndex.
	cancelled := *soon
	cancelled.Version = 2
	cancelled.Status = domain.CertCancelled
	cancelled.RemindAt = nil
	mustCommit(t, s, &domain.Change{Certifications: []domain.CertificationWrite{{Certification: &cancelled, ExpectVersion: 1}}})
	counter.Reset()
	if d := diff([]string{e2.ID + "/mini_program"}, allShards(t, s, s.DueCertifications, t0.Add(48*time.Hour), transitionAt)); d != "" {
		t.Errorf("due after cancel (-want +got):\n%s", d)
	}
	if counter.ItemsRead() != 1 {
		t.Errorf("read %d items, want 1", counter.ItemsRead())
	}
	if d := diff([]string{e1.ID + "/official_account"}, allShards(t, s, s.RemindersDue, t0.AddDate(2, 0, 0), remindAt)); d != "" {
		t.Errorf("reminders after cancel (-want +got):\n%s", d)
	}

	// Renewed: moves within DueIndex, in its shard.
	renewed := *later
	renewed.Version = 2
	renewed.ExpiresAt = t0.Add(12 * time.Hour)
	mustCommit(t, s, &domain.Change{Certifications: []domain.CertificationWrite{{Certification: &renewed, ExpectVersion: 1}}})
	if d := diff(sorted(e2.ID+"/mini_program", e1.ID+"/official_account"), allShards(t, s, s.DueCertifications, t0.Add(48*time.Hour), transitionAt)); d != "" {
		t.Errorf("due after move (-want +got):\n%s", d)
	}

	// Stale write and duplicate create conflict.
	err = s.Commit(ctx, &domain.Change{Certifications: []domain.CertificationWrite{{Certification: &cancelled, ExpectVersion: 1}}})
	wantCode(t, err, domain.KindConflict, "version_conflict")
	err = s.Commit(ctx, &domain.Change{Certifications: []domain.CertificationWrite{{Certification: overdue, Create: true}}})
	wantCode(t, err, domain.KindConflict, "version_conflict")
}
