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

// A keyed write is held to the budget of its plain request: the
// transaction that applies its change also stores its response, so the key
// costs at most one call (the reservation's PutItem), and none on the
// routes that create the key's record in that transaction
// (httpapi.keyedInCommit).

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
	// POSTs only; nil otherwise), held to Budget too.
	Keyed *Count `json:"keyed,omitempty"`
}

// Over reports whether the plain request exceeds its budget or Scans.
func (r Row) Over() bool {
	return r.Plain.Scans > 0 || (r.Budget > 0 && r.Plain.Calls > r.Budget)
}

// KeyedOver reports whether the keyed request exceeds the budget or Scans.
func (r Row) KeyedOver() bool {
	return r.Keyed != nil && (r.Keyed.Scans > 0 || (r.Budget > 0 && r.Keyed.Calls > r.Budget))
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
