package storetest

import (
	"context"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// Counter counts the DynamoDB calls a client makes, per operation (one per
// API call, retries not counted), and the items that reads returned (Query,
// Scan, GetItem, BatchGetItem, TransactGetItems). Tests use it to show that
// nothing Scans, how many reads a request costs and that jobs read only due
// items. Safe for concurrent use.
type Counter struct {
	mu    sync.Mutex
	calls map[string]int
	items map[string]int
}

// NewCounter returns an empty Counter.
func NewCounter() *Counter {
	return &Counter{calls: map[string]int{}, items: map[string]int{}}
}

// Option installs the counter on a client: pass it to dynamodb.New,
// NewTable or Start, or per call.
func (c *Counter) Option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, c.addTo)
	}
}

// Wrap returns a copy of client that also counts into c (counters already
// installed on client keep counting the copy's calls too).
func (c *Counter) Wrap(client *dynamodb.Client) *dynamodb.Client {
	return dynamodb.New(client.Options(), c.Option())
}

func (c *Counter) addTo(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("storetest.Counter",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := middleware.GetOperationName(ctx)
			out, md, err := next.HandleInitialize(ctx, in)
			c.record(op, out.Result)
			return out, md, err
		}), middleware.After)
}

func (c *Counter) record(op string, result any) {
	n := 0
	switch r := result.(type) {
	case *dynamodb.QueryOutput:
		n = len(r.Items)
	case *dynamodb.ScanOutput:
		n = len(r.Items)
	case *dynamodb.GetItemOutput:
		if len(r.Item) > 0 {
			n = 1
		}
	case *dynamodb.BatchGetItemOutput:
		for _, items := range r.Responses {
			n += len(items)
		}
	case *dynamodb.TransactGetItemsOutput:
		for _, it := range r.Responses {
			if len(it.Item) > 0 {
				n++
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[op]++
	c.items[op] += n
}

// Operations is every operation called at least once, sorted.
func (c *Counter) Operations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.calls))
	for op := range c.calls {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// Calls is the number of calls of operation op ("Query", "Scan", ...).
func (c *Counter) Calls(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

// TotalCalls is the number of calls of every operation.
func (c *Counter) TotalCalls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	return n
}

// ItemsRead is the number of items every read returned.
func (c *Counter) ItemsRead() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.items {
		n += v
	}
	return n
}

// ItemsReadBy is the number of items the reads of operation op returned.
func (c *Counter) ItemsReadBy(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.items[op]
}

// Reset forgets everything counted so far.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = map[string]int{}
	c.items = map[string]int{}
}
