// Command doccheck is DocCheckFunction: S3 ObjectCreated events under
// uploads/ run the document checks and record the result.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"microcert/shared/blob/s3blob"
	"microcert/shared/clock"
	"microcert/shared/config"
	"microcert/shared/logging"
	"microcert/shared/store"
	"microcert/shared/uploadcheck"
)

func main() {
	log := logging.New("doccheck")
	cfg, rules := config.MustLoad(log)
	checker := uploadcheck.New(store.New(cfg.DynamoDB(), cfg.TableName, rules), s3blob.New(cfg.S3(), cfg.BucketName), clock.System{}, log)
	lambda.Start(checker.Handle)
}
