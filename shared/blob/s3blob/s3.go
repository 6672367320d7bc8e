// Package s3blob is the S3 adapter of package blob: presigned uploads and
// downloads for the API, streaming reads and result tags for the document
// check, retention tags for the expiry job.
package s3blob

import (
	"context"
	"errors"
	"io"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"microcert/shared/blob"
	"microcert/shared/domain"
)

// S3 talks to one bucket.
type S3 struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
}

// New wraps client for bucket. Presigned URLs use the client's endpoint.
func New(client *s3.Client, bucket string) *S3 {
	return &S3{client: client, presign: s3.NewPresignClient(client), bucket: bucket}
}

// PresignUpload returns a POST policy pinned to the key, the content type
// and a content-length-range of 1..maxBytes: S3 itself refuses anything else.
func (b *S3) PresignUpload(ctx context.Context, key, contentType string, maxBytes int64, ttl time.Duration) (blob.PresignedPost, error) {
	out, err := b.presign.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)},
		func(o *s3.PresignPostOptions) {
			o.Expires = ttl
			o.Conditions = []any{
				[]any{"content-length-range", 1, maxBytes},
				map[string]string{"Content-Type": contentType},
			}
		})
	if err != nil {
		return blob.PresignedPost{}, domain.Wrap(domain.KindUnavailable, "unavailable", err)
	}
	fields := make(map[string]string, len(out.Values)+1)
	for k, v := range out.Values {
		fields[k] = v
	}
	fields["Content-Type"] = contentType
	return blob.PresignedPost{URL: out.URL, Fields: fields, ExpiresAt: time.Now().Add(ttl).UTC()}, nil
}

// PresignDownload returns a short-lived GET URL.
func (b *S3) PresignDownload(ctx context.Context, key string, ttl time.Duration) (string, error) {
	out, err := b.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", domain.Wrap(domain.KindUnavailable, "unavailable", err)
	}
	return out.URL, nil
}

// Head reads an object's metadata without its body.
func (b *S3) Head(ctx context.Context, key string) (blob.ObjectInfo, error) {
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
	if err != nil {
		return blob.ObjectInfo{}, mapErr(err)
	}
	return blob.ObjectInfo{Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType),
		VersionID: aws.ToString(out.VersionId), ETag: aws.ToString(out.ETag)}, nil
}

// Open streams an object's body, with the metadata of exactly the bytes
// served (their ETag); the caller closes it.
func (b *S3) Open(ctx context.Context, key string) (io.ReadCloser, blob.ObjectInfo, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, blob.ObjectInfo{}, mapErr(err)
	}
	return out.Body, blob.ObjectInfo{Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType),
		VersionID: aws.ToString(out.VersionId), ETag: aws.ToString(out.ETag)}, nil
}

// CopyIfMatch copies src to dst within the bucket, server-side, only if
// src still has the given ETag (else blob.ErrObjectChanged), and gives the
// copy tags instead of src's.
func (b *S3) CopyIfMatch(ctx context.Context, src, etag, dst string, tags map[string]string) error {
	_, err := b.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(dst),
		CopySource: aws.String(b.bucket + "/" + src), CopySourceIfMatch: aws.String(etag),
		TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String(tagQuery(tags))})
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "PreconditionFailed" {
		return blob.ErrObjectChanged
	}
	return mapErr(err)
}

// Delete removes an object (absent is fine).
func (b *S3) Delete(ctx context.Context, key string) error {
	_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
	if err = mapErr(err); errors.Is(err, blob.ErrObjectGone) {
		return nil
	}
	return err
}

// tagQuery is tags in the URL-query form of x-amz-tagging.
func tagQuery(tags map[string]string) string {
	v := url.Values{}
	for k, x := range tags {
		v.Set(k, x)
	}
	return v.Encode()
}

// Get reads a whole small object (the operator's calendar document): at
// most max bytes, else invalid object_too_large; a missing object is
// KindNotFound.
func (b *S3) Get(ctx context.Context, key string, max int64) ([]byte, error) {
	body, _, err := b.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, max+1))
	if err != nil {
		return nil, domain.Wrap(domain.KindUnavailable, "unavailable", err)
	}
	if int64(len(data)) > max {
		return nil, domain.E(domain.KindInvalid, "object_too_large", "对象过大。", "The object is too large.")
	}
	return data, nil
}

// Tag replaces the object's tags.
func (b *S3) Tag(ctx context.Context, key string, tags map[string]string) error {
	var ts []types.Tag
	for k, v := range tags {
		ts = append(ts, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	_, err := b.client.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b.bucket), Key: aws.String(key),
		Tagging: &types.Tagging{TagSet: ts}})
	return mapErr(err)
}

func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var api smithy.APIError
	switch {
	case errors.As(err, &nsk), errors.As(err, &nf):
		return blob.ErrObjectGone
	case errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound"):
		return blob.ErrObjectGone
	}
	return domain.Wrap(domain.KindUnavailable, "unavailable", err)
}
