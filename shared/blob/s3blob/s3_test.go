package s3blob_test

import (
	"microcert/shared/blob/s3blob"
	"microcert/shared/certsvc"
	"microcert/shared/holidays"
	"microcert/shared/jobs"
	"microcert/shared/uploadcheck"
)

// The S3 adapter is what the use cases, the document check, the expiry job
// and the holiday calendar run on in production.
var (
	_ certsvc.Blob        = (*s3blob.S3)(nil)
	_ uploadcheck.Objects = (*s3blob.S3)(nil)
	_ jobs.Objects        = (*s3blob.S3)(nil)
	_ holidays.Objects    = (*s3blob.S3)(nil)
)
