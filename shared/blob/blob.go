// Package blob holds the values the use cases and the document check
// exchange with the documents bucket. It imports no AWS code: the packages
// that declare what they need from the bucket (certsvc.Blob,
// uploadcheck.Objects) depend on these values only, and so does the S3
// implementation (blob/s3blob), which therefore links neither of them: the
// expiry job, which only tags objects, does not carry the document check.
package blob

import (
	"time"

	"microcert/shared/domain"
)

// PresignedPost is what an app needs to upload a file straight to S3.
type PresignedPost struct {
	URL       string
	Fields    map[string]string
	ExpiresAt time.Time
}

// ObjectInfo is an object's metadata.
type ObjectInfo struct {
	Size        int64
	ContentType string
	VersionID   string
	ETag        string
}

// ErrObjectGone is what reads return for an object that does not exist
// (deleted, or never uploaded).
var ErrObjectGone = domain.E(domain.KindNotFound, "object_gone", "文件已不存在。", "The file no longer exists.")

// ErrObjectChanged is what a conditional copy returns when the object was
// replaced (a re-posted form) after it was read.
var ErrObjectChanged = domain.E(domain.KindConflict, "object_changed", "文件已被替换。", "The file was replaced.")
