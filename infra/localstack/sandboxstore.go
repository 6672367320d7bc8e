package localstack

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"microcert/shared/apitime"
	"microcert/shared/domain"
	"microcert/shared/store"
)

// The sandbox reads orders and payouts through the real store, so it sees
// exactly what the functions wrote (the rules only schedule writes, which
// the sandbox does not make).
func init() {
	DefaultSandboxData = func(ctx context.Context, db *dynamodb.Client, table string) (SandboxData, error) {
		return storeSandbox{st: store.New(db, table, domain.DefaultRules)}, nil
	}
}

type storeSandbox struct{ st *store.Store }

func (s storeSandbox) OrderPayable(ctx context.Context, orderID string) (int64, error) {
	return s.st.OrderPayable(ctx, orderID)
}

func (s storeSandbox) Payouts(ctx context.Context, caseID string) ([]Payout, error) {
	ps, err := s.st.Payouts(ctx, caseID)
	if err != nil {
		return nil, err
	}
	out := make([]Payout, 0, len(ps))
	for _, p := range ps {
		out = append(out, Payout{AmountFen: p.AmountFen, AccountLast4: p.AccountLast4, PaidAt: apitime.Time(p.At), Reference: p.ID})
	}
	return out, nil
}

// PayoutsForDay: the sandbox bank executes every payout instruction the day
// it is written.
func (s storeSandbox) PayoutsForDay(ctx context.Context, day string) ([]Payout, error) {
	ps, err := s.st.PayoutsForDay(ctx, day)
	if err != nil {
		return nil, err
	}
	out := make([]Payout, 0, len(ps))
	for _, p := range ps {
		out = append(out, Payout{AmountFen: p.AmountFen, AccountLast4: p.AccountLast4, PaidAt: apitime.Time(p.At), Reference: p.ID})
	}
	return out, nil
}
