package store

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"microcert/shared/domain"
)

// checked returns d with a check result from the event with sequencer seq.
func checked(d *domain.Document, seq string, status domain.DocStatus, sha string) *domain.Document {
	n := *d
	n.Sequencer = seq
	n.Status = status
	n.SHA256 = sha
	n.CheckedAt = ptr(t0.Add(time.Minute))
	n.VersionID = "v-" + seq
	n.Metrics = map[string]float64{"sharpness": 0.8}
	if status == domain.DocFailed {
		n.Findings = []domain.Finding{{Code: "blurry", Message: domain.Text{Zh: "模糊", En: "blurry"}}}
	}
	return &n
}

func TestDocumentCreateGetFind(t *testing.T) {
	s, _ := newStore(t)
	e := createEnterprise(t, s, "u1")
	c := createCase(t, s, e, t0)
	d := sampleDocument(c, t0)
	mustCommit(t, s, &domain.Change{Documents: []domain.DocumentWrite{{Document: d, Create: true}}})

	got, err := s.GetDocument(ctx, c.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d2 := diff(d, got); d2 != "" {
		t.Errorf("GetDocument (-want +got):\n%s", d2)
	}
	got, err = s.FindDocument(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d2 := diff(d, got); d2 != "" {
		t.Errorf("FindDocument (-want +got):\n%s", d2)
	}
	_, err = s.GetDocument(ctx, c.ID, domain.NewIDAt(t0))
	wantCode(t, err, domain.KindNotFound, "not_found")
	_, err = s.FindDocument(ctx, domain.NewIDAt(t0))
	wantCode(t, err, domain.KindNotFound, "not_found")
	_, err = s.GetDocument(ctx, domain.NewIDAt(t0), d.ID) // right id, wrong case
	wantCode(t, err, domain.KindNotFound, "not_found")
}

func TestCheckResultSequencers(t *testing.T) {
	s, _ := newStore(t)
	e := createEnterprise(t, s, "u1")
	c := createCase(t, s, e, t0)
	d := sampleDocument(c, t0)
	mustCommit(t, s, &domain.Change{Documents: []domain.DocumentWrite{{Document: d, Create: true}}})

	steps := []struct {
		name  string
		seq   string
		code  string // "" = applied
		state string // the sequencer stored afterwards
	}{
		{"first result applies", "0055AED6DCD90281E5", "", "0055AED6DCD90281E5"},
		{"same event again is a duplicate", "0055AED6DCD90281E5", "duplicate", "0055AED6DCD90281E5"},
		{"older event is refused", "0055AED6DCD90281E4", "duplicate", "0055AED6DCD90281E5"},
		{"newer event applies", "0055AED6DCD90281F0", "", "0055AED6DCD90281F0"},
		{"hex order, not decimal", "0055AED6DCD902820A", "", "0055AED6DCD902820A"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			w := checked(d, st.seq, domain.DocPassed, "ab12")
			err := s.Commit(ctx, &domain.Change{Documents: []domain.DocumentWrite{{Document: w, CheckResult: true}}})
			if st.code == "" && err != nil {
				t.Fatal(err)
			}
			if st.code != "" {
				wantCode(t, err, domain.KindConflict, st.code)
			}
			got, err := s.GetDocument(ctx, c.ID, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Sequencer != st.state {
				t.Errorf("stored sequencer %s, want %s", got.Sequencer, st.state)
			}
		})
	}

	// In a transaction with a case bump (as the check function commits):
	// an old result cancels the whole transaction.
	next := nextCase(c, nil)
	err := s.Commit(ctx, &domain.Change{
		Documents: []domain.DocumentWrite{{Document: checked(d, "0055AED6DCD90281E5", domain.DocFailed, "ab12"), CheckResult: true}},
		Cases:     []domain.CaseWrite{{Case: next, ExpectVersion: 1}},
	})
	wantCode(t, err, domain.KindConflict, "duplicate")
	if cur, _ := s.GetCase(ctx, c.ID); cur.Version != 1 {
		t.Errorf("case version %d after cancelled transaction, want 1", cur.Version)
	}
}

func TestDocumentUpdatesKeepCheckResultAndRetention(t *testing.T) {
	s, counter := newStore(t)
	e := createEnterprise(t, s, "u1")
	counter.Reset()
	c := createCase(t, s, e, t0)
	d := sampleDocument(c, t0)
	mustCommit(t, s, &domain.Change{Documents: []domain.DocumentWrite{{Document: d, Create: true}}})

	// The API read d before the result came; its update (superseded) must
	// not undo the result.
	res := checked(d, "01", domain.DocFailed, "cafe")
	mustCommit(t, s, &domain.Change{Documents: []domain.DocumentWrite{{Document: res, CheckResult: true}}})
	stale := *d
	stale.Superseded = true
	expire := t0.AddDate(0, 0, 30)
	mustCommit(t, s, &domain.Change{Documents: []domain.DocumentWrite{{Document: &stale, ExpireAt: &expire}}})
	got, err := s.GetDocument(ctx, c.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *res
	want.Superseded = true
	if d2 := diff(&want, got); d2 != "" {
		t.Errorf("after API update (-want +got):\n%s", d2)
	}
	if ttl := rawTTL(t, s, casePK(c.ID), docSK(d.ID)); ttl != expire.Unix() {
		t.Errorf("ttl %d, want %d", ttl, expire.Unix())
	}

	// A later result for a document scheduled for deletion is not recorded
	// (it would drop the ttl), nor one read before it was superseded.
	late := checked(d, "02", domain.DocPassed, "cafe")
	err = s.Commit(ctx, &domain.Change{Documents: []domain.DocumentWrite{{Document: late, CheckResult: true}}})
	wantCode(t, err, domain.KindConflict, "duplicate")
	late.Superseded = true
	err = s.Commit(ctx, &domain.Change{Documents: []domain.DocumentWrite{{Document: late, CheckResult: true, ExpireAt: &expire}}})
	if err != nil {
		t.Fatalf("result carrying the retention: %v", err)
	}
	if ttl := rawTTL(t, s, casePK(c.ID), docSK(d.ID)); ttl != expire.Unix() {
		t.Errorf("ttl %d after result, want %d", ttl, expire.Unix())
	}

	// Updating a document that does not exist conflicts.
	ghost := sampleDocument(c, t0)
	err = s.Commit(ctx, &domain.Change{Documents: []domain.DocumentWrite{{Document: ghost}}})
	wantCode(t, err, domain.KindConflict, "version_conflict")
	err = s.Commit(ctx, &domain.Change{Documents: []domain.DocumentWrite{{Document: checked(ghost, "01", domain.DocPassed, "x"), CheckResult: true}}})
	wantCode(t, err, domain.KindConflict, "duplicate")
	if counter.Calls("TransactWriteItems") != 0 {
		t.Errorf("single writes used %d transactions", counter.Calls("TransactWriteItems"))
	}
}

func rawTTL(t *testing.T, s *Store, pk, sk string) int64 {
	t.Helper()
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: itemKey(pk, sk)})
	if err != nil {
		t.Fatal(err)
	}
	n, ok := out.Item[attrTTL].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	var v int64
	for _, ch := range n.Value {
		v = v*10 + int64(ch-'0')
	}
	return v
}

func TestFindDocumentsByHash(t *testing.T) {
	s, _ := newStore(t)
	var all []string
	sha := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	for i := 0; i < 3; i++ {
		e := createEnterprise(t, s, "u")
		c := createCase(t, s, e, t0)
		for j := 0; j < 2; j++ {
			d := sampleDocument(c, t0)
			mustCommit(t, s, &domain.Change{Documents: []domain.DocumentWrite{{Document: d, Create: true}}})
			h := sha
			if j == 1 {
				h = "other"
			}
			mustCommit(t, s, &domain.Change{Documents: []domain.DocumentWrite{{Document: checked(d, "01", domain.DocPassed, h), CheckResult: true}}})
			if j == 0 {
				all = append(all, e.ID+"/"+d.ID)
			}
		}
	}
	docs, err := s.FindDocumentsByHash(ctx, sha)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range docs {
		got = append(got, d.EnterpriseID+"/"+d.ID)
	}
	sort.Strings(all)
	sort.Strings(got)
	if d := diff(all, got); d != "" {
		t.Errorf("by hash (-want +got):\n%s", d)
	}
	none, err := s.FindDocumentsByHash(ctx, "0000")
	if err != nil || len(none) != 0 {
		t.Errorf("unknown hash: %v, %v", none, err)
	}
}

func TestFindDocumentsByPHashBand(t *testing.T) {
	s, _ := newStore(t)
	type stored struct{ ent, doc string }
	var want []stored
	bands := func(k string) []string { return []string{"a000", "b000", k, "d000"} }
	for i := 0; i < 3; i++ {
		e := createEnterprise(t, s, "u")
		c := createCase(t, s, e, t0)
		for j, key := range []string{"beef", "f00d"} {
			d := sampleDocument(c, t0)
			mustCommit(t, s, &domain.Change{Documents: []domain.DocumentWrite{{Document: d, Create: true}}})
			r := checked(d, "01", domain.DocPassed, fmt.Sprintf("sha-%d-%d", i, j))
			r.PHash, r.PHashBands = strings.Repeat("0", 80), bands(key)
			r.Similar = []domain.SimilarDocument{{DocumentID: "x", CaseID: "y", EnterpriseID: "z", Distance: 3}}
			r.Notes = []domain.Finding{{Code: "near_duplicate", Message: domain.Text{Zh: "相似", En: "similar"}}}
			mustCommit(t, s, &domain.Change{Documents: []domain.DocumentWrite{{Document: r, CheckResult: true}}})
			if key == "beef" {
				want = append(want, stored{e.ID, d.ID})
			}
			got, err := s.GetDocument(ctx, c.ID, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(r, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		}
	}
	docs, err := s.FindDocumentsByPHashBand(ctx, 2, "beef")
	if err != nil {
		t.Fatal(err)
	}
	var got []stored
	for _, d := range docs {
		if d.PHash == "" || d.CaseID == "" {
			t.Errorf("index item lacks projected attributes: %+v", d)
		}
		got = append(got, stored{d.EnterpriseID, d.ID})
	}
	less := func(a, b stored) int { return strings.Compare(a.ent+a.doc, b.ent+b.doc) }
	slices.SortFunc(want, less)
	slices.SortFunc(got, less)
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(stored{})); diff != "" {
		t.Errorf("band 2 = beef (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		band int
		key  string
	}{{0, "beef"}, {2, "0000"}} {
		if none, err := s.FindDocumentsByPHashBand(ctx, tc.band, tc.key); err != nil || len(none) != 0 {
			t.Errorf("band %d = %s: %v, %v", tc.band, tc.key, none, err)
		}
	}
	if _, err := s.FindDocumentsByPHashBand(ctx, 4, "beef"); err == nil {
		t.Error("band 4 exists")
	}
}
