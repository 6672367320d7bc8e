// Package apicalls counts the DynamoDB calls of every API route (and of one
// document-check event) with the SDK middleware of storetest. The test in
// this folder drives the real HTTP adapter (httpapi over certsvc over store)
// in-process with API Gateway v2 events against the DynamoDB stand-in,
// prints the table, writes it as JSON when asked (for BENCHMARKS.md) and
// fails when a budget is exceeded, so `make test` guards it.
package apicalls

import "fmt"

// Budgets of DynamoDB calls per request.
const (
	MaxReadCalls  = 2 // GET routes
	MaxWriteCalls = 4 // every other method, with or without an Idempotency-Key
)

// KeyedException is a keyed write allowed more than MaxWriteCalls: its
// plain request already spends the whole budget, and the key's
// reservation comes on top.
type KeyedException struct {
	Max int
	Why string
}

// KeyedExceptions are the rows (route and situation) held to their own
// keyed budget. A keyed write otherwise adds one call to its plain request
// (the reservation's PutItem): its response is stored by the transaction
// that applies its change.
var KeyedExceptions = map[string]KeyedException{
	"POST /v1/cases/{caseId}/withdraw": {6, "a paid case: the withdrawal is written before the refund is ordered " +
		"from the provider, the provider's answer is a second transaction, and the response is stored after it (UpdateItem)"},
	"POST /v1/admin/refunds/{refundId}/retry": {6, "the retry is written before the refund is ordered from the provider, " +
		"the answer is a second transaction, and the response is stored after it (UpdateItem)"},
	"POST /v1/cases/{caseId}/decision (dispute won, the holder with an open case)": {5, "a second BatchGetItem reads " +
		"the losing holder's open cases, named by its state"},
}

// Ops are the DynamoDB operations reported one by one.
var Ops = []string{"GetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem",
	"TransactWriteItems", "TransactGetItems", "BatchGetItem", "BatchWriteItem"}

// Count is what one request cost.
type Count struct {
	Status    int            `json:"status"`
	Calls     int            `json:"calls"`
	ByOp      map[string]int `json:"byOp"`
	ItemsRead int            `json:"itemsRead"`
	Scans     int            `json:"scans"`
}

// Row is one route.
type Row struct {
	Route  string `json:"route"` // "GET /v1/cases/{caseId}", or an event name
	Kind   string `json:"kind"`  // read, write, event
	Note   string `json:"note,omitempty"`
	Budget int    `json:"budget"` // max calls; 0 with Kind event = none
	Plain  Count  `json:"plain"`  // without Idempotency-Key
	// Keyed is the same request with an Idempotency-Key (authenticated
	// POSTs only; nil otherwise).
	Keyed *Count `json:"keyed,omitempty"`
	// KeyedBudget is Keyed's max calls: Budget, or a KeyedException's.
	KeyedBudget int `json:"keyedBudget,omitempty"`
}

// Over reports whether the plain request exceeds its budget or Scans.
func (r Row) Over() bool {
	return r.Plain.Scans > 0 || (r.Budget > 0 && r.Plain.Calls > r.Budget)
}

// KeyedOver reports whether the keyed request exceeds the budget or Scans.
func (r Row) KeyedOver() bool {
	return r.Keyed != nil && (r.Keyed.Scans > 0 || (r.KeyedBudget > 0 && r.Keyed.Calls > r.KeyedBudget))
}

// OpsString is "Query 1, TransactWriteItems 1".
func (c Count) OpsString() string {
	s := ""
	for _, op := range Ops {
		if n := c.ByOp[op]; n > 0 {
			if s != "" {
				s += ", "
			}
			s += fmt.Sprintf("%s %d", op, n)
		}
	}
	if other := c.Calls - sumOps(c.ByOp); other > 0 {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("other %d", other)
	}
	if s == "" {
		return "-"
	}
	return s
}

func sumOps(m map[string]int) int {
	n := 0
	for _, op := range Ops {
		n += m[op]
	}
	return n
}

// Table is the whole result.
type Table struct {
	Rows []Row `json:"rows"`
}
