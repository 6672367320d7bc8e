package store_test

import (
	"microcert/shared/certsvc"
	"microcert/shared/httpapi"
	"microcert/shared/jobs"
	"microcert/shared/reconcile"
	"microcert/shared/store"
	"microcert/shared/uploadcheck"
)

// The store implements what each user package declares it needs. (Kept in
// an external test package: certsvc's own tests import store, so a guard in
// the store's code would be an import cycle.)
var (
	_ certsvc.Store            = (*store.Store)(nil)
	_ jobs.Store               = (*store.Store)(nil)
	_ jobs.RefundSource        = (*store.Store)(nil)
	_ reconcile.ReconStore     = (*store.Store)(nil)
	_ uploadcheck.Store        = (*store.Store)(nil)
	_ httpapi.IdempotencyStore = (*store.Store)(nil)

	// The refund job sends through the service.
	_ jobs.RefundSender = (*certsvc.Service)(nil)
)
