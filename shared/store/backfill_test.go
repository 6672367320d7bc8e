package store

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"microcert/shared/domain"
	"microcert/shared/store/storetest"
)

// createLegacyEnterprise writes a profile as the first version did: without
// its owner's membership.
func createLegacyEnterprise(t *testing.T, s *Store, owner string) *domain.Enterprise {
	t.Helper()
	e := sampleEnterprise(owner)
	mustCommit(t, s, &domain.Change{Enterprises: []domain.EnterpriseWrite{{Enterprise: e, Create: true}}})
	return e
}

// legacyCase writes an open case as the first version did: without its
// slots (createCase writes none).
func legacyCase(t *testing.T, s *Store, e *domain.Enterprise, f func(*domain.Case)) *domain.Case {
	t.Helper()
	c := sampleCase(e, t0)
	if f != nil {
		f(c)
	}
	mustCommit(t, s, &domain.Change{Cases: []domain.CaseWrite{{Case: c, Create: true}}})
	return c
}

// runEnterpriseBackfill runs BackfillEnterpriseItems in batches of batch
// items to the end of the table.
func runEnterpriseBackfill(t *testing.T, s *Store, batch int) EnterpriseBackfill {
	t.Helper()
	var sum EnterpriseBackfill
	from := ""
	for range 200 {
		b, err := s.BackfillEnterpriseItems(ctx, from, batch)
		if err != nil {
			t.Fatal(err)
		}
		sum.Examined += b.Examined
		sum.Slots += b.Slots
		sum.Owners += b.Owners
		sum.Left = append(sum.Left, b.Left...)
		if from = b.Next; from == "" {
			return sum
		}
	}
	t.Fatal("the backfill did not reach the end of the table")
	return sum
}

func mustSlotHolders(t *testing.T, s *Store, enterpriseID string) map[string]string {
	t.Helper()
	held, err := s.slotHolders(ctx, enterpriseID)
	if err != nil {
		t.Fatal(err)
	}
	return held
}

var ignoreReason = cmpopts.IgnoreFields(BackfillLeftover{}, "Reason")

func TestBackfillEnterpriseItems(t *testing.T) {
	type want struct {
		slots map[string]map[string]string // enterprise -> subject -> case
		// owners: enterprise -> user who must be its owner member after
		// the backfill; notMember: ... who must still not be a member.
		owners, notMember map[string]string
		wroteSlots        int
		wroteOwners       int
		left              []BackfillLeftover
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, s *Store) want
	}{
		{"a legacy open case gets its slots", func(t *testing.T, s *Store) want {
			e := createEnterprise(t, s, "u1")
			c := legacyCase(t, s, e, nil)
			return want{slots: map[string]map[string]string{e.ID: {"wecom": c.ID, "official_account": c.ID}}, wroteSlots: 2}
		}},
		{"a legacy change case gets the profile's slot", func(t *testing.T, s *Store) want {
			e := createEnterprise(t, s, "u1")
			c := legacyCase(t, s, e, func(c *domain.Case) { c.Kind, c.Types = domain.KindChange, nil })
			return want{slots: map[string]map[string]string{e.ID: {domain.SlotProfile: c.ID}}, wroteSlots: 1}
		}},
		{"a closed case gets none", func(t *testing.T, s *Store) want {
			e := createEnterprise(t, s, "u1")
			c := legacyCase(t, s, e, nil)
			mustCommit(t, s, &domain.Change{Cases: []domain.CaseWrite{domain.UpdateCase(c, nextCase(c, func(n *domain.Case) { n.Status = domain.CaseWithdrawn }))}})
			legacyCase(t, s, e, func(c *domain.Case) { c.Status = domain.CaseApproved })
			return want{slots: map[string]map[string]string{e.ID: {}}}
		}},
		{"a case written with its slots is left as it is", func(t *testing.T, s *Store) want {
			e := createEnterprise(t, s, "u1")
			c := sampleCase(e, t0)
			mustCommit(t, s, &domain.Change{Cases: []domain.CaseWrite{{Case: c, Create: true}}, Slots: domain.SlotsFor(c, false)})
			return want{slots: map[string]map[string]string{e.ID: {"wecom": c.ID, "official_account": c.ID}}}
		}},
		{"two legacy open cases of one type: one conflict reported, its slot left free", func(t *testing.T, s *Store) want {
			e := createEnterprise(t, s, "u1")
			c1 := legacyCase(t, s, e, func(c *domain.Case) { c.Types = []domain.CertType{domain.CertWeCom} })
			c2 := legacyCase(t, s, e, func(c *domain.Case) { c.Types = []domain.CertType{domain.CertWeCom, domain.CertMiniProgram} })
			return want{slots: map[string]map[string]string{e.ID: {"mini_program": c2.ID}}, wroteSlots: 1,
				left: []BackfillLeftover{{EnterpriseID: e.ID, Subject: "wecom", CaseIDs: sorted(c1.ID, c2.ID)}}}
		}},
		{"a legacy case beside a new case holding its slot: reported, not overwritten", func(t *testing.T, s *Store) want {
			e := createEnterprise(t, s, "u1")
			old := legacyCase(t, s, e, func(c *domain.Case) { c.Types = []domain.CertType{domain.CertWeCom} })
			cur := sampleCase(e, t0)
			cur.Types = []domain.CertType{domain.CertWeCom}
			mustCommit(t, s, &domain.Change{Cases: []domain.CaseWrite{{Case: cur, Create: true}}, Slots: domain.SlotsFor(cur, false)})
			return want{slots: map[string]map[string]string{e.ID: {"wecom": cur.ID}},
				left: []BackfillLeftover{{EnterpriseID: e.ID, Subject: "wecom", CaseIDs: []string{old.ID}}}}
		}},
		{"a legacy profile gets its owner's membership", func(t *testing.T, s *Store) want {
			e := createLegacyEnterprise(t, s, "u1")
			other := createEnterprise(t, s, "u2")
			return want{owners: map[string]string{e.ID: "u1", other.ID: "u2"}, wroteOwners: 1}
		}},
		{"a profile whose owner role another member holds: reported", func(t *testing.T, s *Store) want {
			e := createLegacyEnterprise(t, s, "u1")
			m := domain.OwnerMembership(e)
			m.Member.UserID = "u9"
			mustCommit(t, s, &domain.Change{Members: []domain.MemberWrite{m}})
			return want{notMember: map[string]string{e.ID: "u1"}, left: []BackfillLeftover{{EnterpriseID: e.ID, Subject: "owner"}}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newScanningStore(t)
			w := tc.setup(t, s)
			check := func(run string, got EnterpriseBackfill, wroteSlots, wroteOwners int) {
				t.Helper()
				if got.Slots != wroteSlots || got.Owners != wroteOwners {
					t.Errorf("%s: wrote %d slots, %d owners; want %d, %d", run, got.Slots, got.Owners, wroteSlots, wroteOwners)
				}
				if d := cmp.Diff(w.left, got.Left, ignoreReason, cmpopts.EquateEmpty()); d != "" {
					t.Errorf("%s: left (-want +got):\n%s", run, d)
				}
				for ent, want := range w.slots {
					if d := diff(want, mustSlotHolders(t, s, ent)); d != "" {
						t.Errorf("%s: slots of %s (-want +got):\n%s", run, ent, d)
					}
				}
				for ent, user := range w.owners {
					st, err := s.GetEnterpriseState(ctx, ent)
					if err != nil {
						t.Fatal(err)
					}
					if m := st.Member(user); m == nil || m.Role != domain.MemberOwner || len(st.Members) != 1 {
						t.Errorf("%s: members of %s: %+v, want %s alone, as owner", run, ent, st.Members, user)
					}
					// What the membership is for: the owner reaches the profile.
					if _, err := domain.Authorize(domain.Actor{UserID: user}, st, nil, domain.PermTransferOwnership); err != nil {
						t.Errorf("%s: the owner of %s is refused: %v", run, ent, err)
					}
					ms, _, err := s.ListMemberships(ctx, user, domain.Page{Limit: 10})
					if err != nil || len(ms) != 1 || ms[0].EnterpriseID != ent {
						t.Errorf("%s: %s's enterprises: %+v, %v", run, user, ms, err)
					}
				}
				for ent, user := range w.notMember {
					st, err := s.GetEnterpriseState(ctx, ent)
					if err != nil {
						t.Fatal(err)
					}
					if st.Member(user) != nil {
						t.Errorf("%s: %s became a member of %s", run, user, ent)
					}
				}
			}
			check("first run", runEnterpriseBackfill(t, s, 2), w.wroteSlots, w.wroteOwners)
			// Again, with another batch size: nothing more is written, the
			// conflicts are still reported.
			check("second run", runEnterpriseBackfill(t, s, 7), 0, 0)
		})
	}
}

// Before the backfill, the owner of a legacy profile reaches nothing of it.
func TestLegacyProfileOwnerIsRefused(t *testing.T) {
	s, _ := newStore(t)
	e := createLegacyEnterprise(t, s, "u1")
	st, err := s.GetEnterpriseState(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := domain.Authorize(domain.Actor{UserID: "u1"}, st, nil, domain.PermRead); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("the legacy owner's read: %v, want not found", err)
	}
	if ms, _, err := s.ListMemberships(ctx, "u1", domain.Page{Limit: 10}); err != nil || len(ms) != 0 {
		t.Errorf("the legacy owner's enterprises: %+v, %v", ms, err)
	}
}

func TestBackfillEnterpriseItemsRejectsBadInput(t *testing.T) {
	s, _ := newScanningStore(t)
	if _, err := s.BackfillEnterpriseItems(ctx, "not-a-cursor", 10); domain.CodeOf(err) != "invalid_cursor" {
		t.Errorf("bad cursor: %v", err)
	}
	if _, err := s.BackfillEnterpriseItems(ctx, "", 0); err == nil {
		t.Error("a batch of 0 items was accepted")
	}
}

// beforeFirst runs f once, just before the client's first call of
// operation op (an API write racing the backfill's).
func beforeFirst(op string, f func()) func(*dynamodb.Options) {
	var once sync.Once
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("race",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if middleware.GetOperationName(ctx) == op {
						once.Do(f)
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	}
}

// An API write of the case or profile between the backfill's read and its
// write wins: the backfill's write fails its condition, it reads again and
// writes what the new state calls for, and the API's write stays as it is.
func TestBackfillEnterpriseItemsLosesToAConcurrentWrite(t *testing.T) {
	tests := []struct {
		name string
		// setup returns the concurrent API write and a check of the end.
		setup func(t *testing.T, api *Store) (race func() error, check func(t *testing.T, got EnterpriseBackfill))
	}{
		{"the case is withdrawn: no slot", func(t *testing.T, api *Store) (func() error, func(*testing.T, EnterpriseBackfill)) {
			e := createEnterprise(t, api, "u1")
			c := legacyCase(t, api, e, nil)
			next := nextCase(c, func(n *domain.Case) { n.Status = domain.CaseWithdrawn })
			race := func() error {
				return api.Commit(ctx, &domain.Change{Cases: []domain.CaseWrite{domain.UpdateCase(c, next)}, Slots: domain.SlotsFor(next, true)})
			}
			return race, func(t *testing.T, got EnterpriseBackfill) {
				if held := mustSlotHolders(t, api, e.ID); got.Slots != 0 || len(held) != 0 {
					t.Errorf("wrote %d slots, held %v; want none", got.Slots, held)
				}
				if cur, err := api.GetCase(ctx, c.ID); err != nil || cur.Status != domain.CaseWithdrawn || cur.Version != 2 {
					t.Errorf("case after the race: %+v, %v", cur, err)
				}
			}
		}},
		{"the open case is updated: its slots, the update kept", func(t *testing.T, api *Store) (func() error, func(*testing.T, EnterpriseBackfill)) {
			e := createEnterprise(t, api, "u1")
			c := legacyCase(t, api, e, func(c *domain.Case) { c.Types = []domain.CertType{domain.CertWeCom} })
			next := nextCase(c, func(n *domain.Case) { n.Explanation = "updated meanwhile" })
			race := func() error {
				return api.Commit(ctx, &domain.Change{Cases: []domain.CaseWrite{domain.UpdateCase(c, next)}})
			}
			return race, func(t *testing.T, got EnterpriseBackfill) {
				if d := diff(map[string]string{"wecom": c.ID}, mustSlotHolders(t, api, e.ID)); got.Slots != 1 || d != "" {
					t.Errorf("wrote %d slots (-want +got):\n%s", got.Slots, d)
				}
				if cur, err := api.GetCase(ctx, c.ID); err != nil || cur.Explanation != "updated meanwhile" || cur.Version != 2 {
					t.Errorf("case after the race: %+v, %v", cur, err)
				}
			}
		}},
		{"a new case takes the subject first: reported, not overwritten", func(t *testing.T, api *Store) (func() error, func(*testing.T, EnterpriseBackfill)) {
			e := createEnterprise(t, api, "u1")
			old := legacyCase(t, api, e, func(c *domain.Case) { c.Types = []domain.CertType{domain.CertWeCom} })
			cur := sampleCase(e, t0)
			cur.Types = []domain.CertType{domain.CertWeCom}
			race := func() error {
				return api.Commit(ctx, &domain.Change{Cases: []domain.CaseWrite{{Case: cur, Create: true}}, Slots: domain.SlotsFor(cur, false)})
			}
			return race, func(t *testing.T, got EnterpriseBackfill) {
				if d := diff(map[string]string{"wecom": cur.ID}, mustSlotHolders(t, api, e.ID)); got.Slots != 0 || d != "" {
					t.Errorf("wrote %d slots (-want +got):\n%s", got.Slots, d)
				}
				want := []BackfillLeftover{{EnterpriseID: e.ID, Subject: "wecom", CaseIDs: []string{old.ID}}}
				if d := cmp.Diff(want, got.Left, ignoreReason); d != "" {
					t.Errorf("left (-want +got):\n%s", d)
				}
			}
		}},
		{"the legacy profile is updated: its owner, the update kept", func(t *testing.T, api *Store) (func() error, func(*testing.T, EnterpriseBackfill)) {
			e := createLegacyEnterprise(t, api, "u1")
			next := *e
			next.OperatingAddress = "深圳市福田区1号"
			race := func() error {
				return api.Commit(ctx, &domain.Change{Enterprises: []domain.EnterpriseWrite{domain.UpdateEnterprise(e, &next, t0)}})
			}
			return race, func(t *testing.T, got EnterpriseBackfill) {
				st, err := api.GetEnterpriseState(ctx, e.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Owners != 1 || st.Member("u1") == nil || st.Enterprise.OperatingAddress != next.OperatingAddress || st.Enterprise.Version != 2 {
					t.Errorf("wrote %d owners; after the race %+v, members %+v", got.Owners, st.Enterprise, st.Members)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := storetest.Start(t)
			api := New(env.Client, env.Table, domain.DefaultRules)
			race, check := tc.setup(t, api)
			var raceErr error
			raced := false
			client := storetest.NewClient(env.URL, beforeFirst("TransactWriteItems", func() { raced, raceErr = true, race() }))
			got := runEnterpriseBackfill(t, New(client, env.Table, domain.DefaultRules), 100)
			if !raced || raceErr != nil {
				t.Fatalf("the concurrent write: ran %v, %v", raced, raceErr)
			}
			check(t, got)
		})
	}
}
