// Command doccheck is DocCheckFunction: S3 ObjectCreated events under
// uploads/ run the document checks and record the result.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"microcert/shared/blob"
	"microcert/shared/clock"
	"microcert/shared/config"
	"microcert/shared/logging"
	"microcert/shared/store"
	"microcert/shared/uploadcheck"
)

func main() {
	ctx := context.Background()
	log := logging.New("doccheck")
	cfg, err := config.Load(ctx, false)
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	checker := uploadcheck.New(store.New(cfg.DynamoDB(), cfg.TableName), blob.New(cfg.S3(), cfg.BucketName), clock.System{}, log)
	lambda.Start(checker.Handle)
}
