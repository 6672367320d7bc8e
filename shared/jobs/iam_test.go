package jobs_test

import (
	"testing"

	"microcert/infra/template"
	"microcert/shared/domain"
	"microcert/shared/jobs"
	"microcert/shared/store"
	"microcert/shared/store/storetest"
)

// TestJobsCallOnlyWhatTheirPolicyGrants runs each job over a due
// certification that is renewed between the job's read and its write (the
// path that re-reads), on a client of the job's own, and checks every
// DynamoDB operation the job made against its function's policy in
// template.yaml: a call the role does not grant fails only once deployed.
func TestJobsCallOnlyWhatTheirPolicyGrants(t *testing.T) {
	root, err := template.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := template.LoadRepo(root)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		function string
		due      func(e *env, ent string) *domain.Certification
		run      func(cfg jobs.Config, e *env, ent string)
	}{
		{
			function: "ExpiryFunction",
			due: func(e *env, ent string) *domain.Certification {
				c := newCert(ent, domain.CertWeCom, expires)
				c.RemindAt = nil
				return c
			},
			run: func(cfg jobs.Config, e *env, ent string) { jobs.NewExpiry(cfg).Run(ctx, beijingMorning(expires, 1)) },
		},
		{
			function: "ReminderFunction",
			due:      func(e *env, ent string) *domain.Certification { return newCert(ent, domain.CertWeCom, expires) },
			run: func(cfg jobs.Config, e *env, ent string) {
				jobs.NewReminders(cfg).Run(ctx, beijingMorning(expires, -60))
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.function, func(t *testing.T) {
			granted := tpl.PolicyActions(tc.function)
			if len(granted) == 0 {
				t.Fatalf("%s: no inline policy actions in template.yaml", tc.function)
			}
			e := newEnv(t)
			ent := domain.NewID()
			e.createCert(tc.due(e, ent))
			jobCalls := storetest.NewCounter()
			now := beijingMorning(expires, 1)
			racing := &raceStore{Store: store.New(jobCalls.Wrap(e.client), e.table, rules), before: func() {
				cur := e.cert(ent, domain.CertWeCom)
				renewed, _, err := domain.ApproveCertification(cur, ent, domain.CertWeCom, domain.KindAnnualReview, "case", now, rules)
				if err != nil {
					t.Fatal(err)
				}
				e.commit(&domain.Change{Certifications: []domain.CertificationWrite{domain.UpdateCertification(cur, &renewed)}})
			}}
			cfg := e.config()
			cfg.Store = racing
			tc.run(cfg, e, ent)
			if !racing.done {
				t.Fatal("the job wrote nothing: the conflict path was not taken")
			}
			if jobCalls.Calls("GetItem") == 0 {
				t.Fatal("the job did not re-read after the conflict")
			}
			for _, op := range jobCalls.Operations() {
				if !granted["dynamodb:"+op] {
					t.Errorf("%s calls dynamodb:%s, which its policy does not grant", tc.function, op)
				}
			}
		})
	}
}
