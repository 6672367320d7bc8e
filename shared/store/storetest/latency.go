package storetest

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// Latency returns a client option that holds every call for d before it is
// sent (SDK middleware, once per call): the network time of a real
// DynamoDB call, which the in-process stand-in does not have. The jobs'
// throughput benchmark runs at 5 and 10 ms.
func Latency(d time.Duration) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("storetest.Latency",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					select {
					case <-ctx.Done():
						return middleware.InitializeOutput{}, middleware.Metadata{}, ctx.Err()
					case <-time.After(d):
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
		})
	}
}
