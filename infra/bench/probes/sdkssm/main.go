// Command sdkssm is a cold-start probe: the sdk probe plus an SSM client
// (see infra/bench/probes).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		os.Exit(1)
	}
	db := dynamodb.NewFromConfig(cfg)
	s3c := s3.NewFromConfig(cfg)
	sm := ssm.NewFromConfig(cfg)
	lambda.Start(func(ctx context.Context, ev map[string]any) (string, error) {
		return db.Options().Region + s3c.Options().Region + sm.Options().Region, nil
	})
}
