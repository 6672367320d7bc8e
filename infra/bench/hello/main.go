// Command hello is the cold-start baseline of infra/bench/coldstart: the
// smallest aws-lambda-go function, built exactly like the real bootstraps
// (CGO off, -tags lambda.norpc, -trimpath, -ldflags='-s -w'), so that the
// ratio function/hello measures what our own init adds.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, ev map[string]any) (string, error) {
		return "hello", nil
	})
}
