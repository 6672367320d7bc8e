package e2e

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"microcert/infra/localstack"
	"microcert/shared/store"

	"microcert/infra/localstack/stacktest"
	"microcert/shared/domain"
)

var (
	stacksMu sync.Mutex
	stacks   = map[string]*stacktest.Stack{}
)

func root(t *testing.T) string {
	n := t.Name()
	for i := range n {
		if n[i] == '/' {
			return n[:i]
		}
	}
	return n
}

func stackFor(t *testing.T) *stacktest.Stack {
	stacksMu.Lock()
	defer stacksMu.Unlock()
	if s, ok := stacks[root(t)]; ok {
		return s
	}
	s := stacktest.Start(t, stacktest.WithSandboxData(func(ctx context.Context, db *dynamodb.Client, table string) (localstack.SandboxData, error) {
		return sbData{store.New(db, table)}, nil
	}))
	stacks[root(t)] = s
	return s
}

func newApp(t *testing.T, role, user string) *app {
	t.Helper()
	st := stackFor(t)
	if user == "" {
		user = role + "-" + domain.NewID()
	}
	return &app{t: t, base: st.APIURL(), token: st.Bearer(t, role, user)}
}

type sbData struct{ st *store.Store }

func (d sbData) OrderPayable(ctx context.Context, id string) (int64, error) { return d.st.OrderPayable(ctx, id) }
func (d sbData) Payouts(ctx context.Context, caseID string) ([]localstack.Payout, error) {
	ps, err := d.st.Payouts(ctx, caseID)
	if err != nil {
		return nil, err
	}
	var out []localstack.Payout
	for _, p := range ps {
		out = append(out, localstack.Payout{AmountFen: p.AmountFen, AccountLast4: p.AccountLast4, PaidAt: p.At})
	}
	return out, nil
}
