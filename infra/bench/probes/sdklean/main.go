// Command sdklean is a cold-start probe: DynamoDB and S3 clients over an
// aws.Config read from the environment alone, without the config package's
// credential chain (see infra/bench/probes). Lambda puts the function's
// region and credentials in the environment.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func endpoint(v string) *string {
	if e := os.Getenv(v); e != "" {
		return aws.String(e)
	}
	return nil
}

func main() {
	cfg := aws.Config{
		Region: os.Getenv("AWS_REGION"),
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
			os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN"))),
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = endpoint("AWS_ENDPOINT_URL_DYNAMODB") })
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = endpoint("AWS_ENDPOINT_URL_S3") })
	lambda.Start(func(ctx context.Context, ev map[string]any) (string, error) {
		return db.Options().Region + s3c.Options().Region, nil
	})
}
