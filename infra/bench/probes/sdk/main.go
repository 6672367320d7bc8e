// Command sdk is a cold-start probe: LoadDefaultConfig + DynamoDB and S3
// clients at init (see infra/bench/probes).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		os.Exit(1)
	}
	db := dynamodb.NewFromConfig(cfg)
	s3c := s3.NewFromConfig(cfg)
	lambda.Start(func(ctx context.Context, ev map[string]any) (string, error) {
		return db.Options().Region + s3c.Options().Region, nil
	})
}
