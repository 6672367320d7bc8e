package certsvc_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"microcert/shared/certsvc"
	"microcert/shared/domain"
	"microcert/shared/httpapi/apitest"
	"microcert/shared/uploadcheck"
)

// TestNoConflictFromOtherWriters: the app uploads three documents and, while
// their checks write the case, starts the face and the bank verification at
// once. A use case whose write loses to another writer reads again and
// applies itself, so the app (which sent no version) never sees a conflict
// it did not cause. Real goroutines on the store, many rounds; infra/e2e
// repeats a few through the local stack.
func TestNoConflictFromOtherWriters(t *testing.T) {
	e := apitest.New(t)
	bank := certsvc.BankInput{BankName: "招商银行深圳分行", AccountName: apitest.CompanyName, AccountNumber: "755912345678901"}
	docTypes := []domain.DocType{domain.DocBusinessLicense, domain.DocLegalRepIDFront, domain.DocLegalRepIDBack}
	for round := range 20 {
		caseID := e.OpenCase(apitest.Owner, e.NewEnterprise(apitest.Owner), "wecom", "official_account")
		var uploads []events.S3EventRecord
		for _, dt := range docTypes {
			content, contentType := apitest.Content(dt)
			up := must(e.Service.RequestUpload(ctx, ucOwner, caseID,
				certsvc.UploadInput{DocType: dt, ContentType: contentType, ContentLength: int64(len(content))}))(t)
			if err := e.Bucket.Post(up.Post, content); err != nil {
				t.Fatal(err)
			}
			uploads = append(uploads, e.S3Event(up.Post.Fields["key"]))
		}
		errs := make([]error, 2+len(uploads))
		var wg sync.WaitGroup
		wg.Go(func() { _, errs[0] = e.Service.StartVerification(ctx, ucOwner, caseID, domain.VerifyFace) })
		wg.Go(func() { _, errs[1] = e.Service.StartDeposit(ctx, ucOwner, caseID, bank) })
		for i, rec := range uploads {
			wg.Go(func() {
				out, err := e.Checker.Process(ctx, rec)
				if err == nil && out != uploadcheck.Checked {
					err = fmt.Errorf("check outcome %s", out)
				}
				errs[2+i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, writer %d: %v", round, i, err)
			}
		}
	}
}

// TestLegacyCaseBesideANewerSlotHolderCloses: an open case written before
// slots existed, of a type a newer open case holds (the backfill reports
// such pairs), can still be withdrawn: its close leaves the newer case's
// slot alone instead of failing on it for good.
func TestLegacyCaseBesideANewerSlotHolderCloses(t *testing.T) {
	e := apitest.New(t)
	ent := e.NewEnterprise(apitest.Owner)
	newer := e.OpenCase(apitest.Owner, ent, "wecom")
	c, err := e.Store.GetCase(ctx, newer)
	if err != nil {
		t.Fatal(err)
	}
	legacy := *c
	legacy.ID, legacy.Version = domain.NewIDAt(c.CreatedAt), 1
	if err := e.Store.Commit(ctx, &domain.Change{Cases: []domain.CaseWrite{{Case: &legacy, Create: true}}}); err != nil {
		t.Fatal(err)
	}

	v, err := e.Service.Withdraw(ctx, ucOwner, legacy.ID)
	if err != nil {
		t.Fatalf("withdraw the legacy case: %v", err)
	}
	if v.Case.Status != domain.CaseWithdrawn {
		t.Errorf("status %s, want withdrawn", v.Case.Status)
	}
	st, err := e.Store.GetEnterpriseState(ctx, ent)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.OpenCases[string(domain.CertWeCom)]; got != newer {
		t.Errorf("the wecom slot is held by %q, want the newer case %s", got, newer)
	}
	if _, err := e.Service.Withdraw(ctx, ucOwner, newer); err != nil {
		t.Fatalf("withdraw the newer case: %v", err)
	}
	st, err = e.Store.GetEnterpriseState(ctx, ent)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.OpenCases) != 0 {
		t.Errorf("slots left after both cases closed: %v", st.OpenCases)
	}
}
