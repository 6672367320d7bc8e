package apitest

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"maps"
	"net/url"
	"strings"
	"sync"
	"time"

	"microcert/shared/blob"
	"microcert/shared/clock"
)

// Bucket is the documents bucket in memory. It presigns as S3 does (a POST
// pinned to a key, a content type and a size range; a GET URL), takes
// uploads only as a presigned POST allows them, and serves the document
// check's reads and tags.
type Bucket struct {
	clock clock.Clock

	mu       sync.Mutex
	objects  map[string]object
	policies map[string]policy // presigned POSTs by key
}

type object struct {
	content     []byte
	contentType string
	tags        map[string]string
}

type policy struct {
	contentType string
	maxBytes    int64
	expires     time.Time
}

// URL is the bucket's made-up endpoint in presigned URLs.
const URL = "https://documents.apitest.invalid/"

// NewBucket is an empty bucket whose presigned URLs expire by clk.
func NewBucket(clk clock.Clock) *Bucket {
	return &Bucket{clock: clk, objects: map[string]object{}, policies: map[string]policy{}}
}

// PresignUpload records the POST policy and returns its form.
func (b *Bucket) PresignUpload(_ context.Context, key, contentType string, maxBytes int64, ttl time.Duration) (blob.PresignedPost, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	exp := b.clock.Now().Add(ttl).UTC()
	b.policies[key] = policy{contentType: contentType, maxBytes: maxBytes, expires: exp}
	return blob.PresignedPost{URL: URL, ExpiresAt: exp,
		Fields: map[string]string{"key": key, "Content-Type": contentType, "policy": "apitest"}}, nil
}

// PresignDownload returns a GET URL of the key.
func (b *Bucket) PresignDownload(_ context.Context, key string, ttl time.Duration) (string, error) {
	return URL + key + "?X-Amz-Expires=" + fmt.Sprint(int(ttl.Seconds())), nil
}

// Post uploads content with a presigned POST's form, as an app does; it
// fails as S3 would when the form's policy does not allow it.
func (b *Bucket) Post(post blob.PresignedPost, content []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	key := post.Fields["key"]
	p, ok := b.policies[key]
	switch {
	case post.URL != URL || !ok:
		return fmt.Errorf("apitest bucket: no presigned POST for %q", key)
	case b.clock.Now().After(p.expires):
		return fmt.Errorf("apitest bucket: the POST policy of %q expired", key)
	case post.Fields["Content-Type"] != p.contentType:
		return fmt.Errorf("apitest bucket: content type %q, policy %q", post.Fields["Content-Type"], p.contentType)
	case len(content) < 1 || int64(len(content)) > p.maxBytes:
		return fmt.Errorf("apitest bucket: %d bytes outside the policy's 1..%d", len(content), p.maxBytes)
	}
	b.objects[key] = object{content: bytes.Clone(content), contentType: p.contentType}
	return nil
}

// Put stores an object directly (as another writer of the bucket would).
func (b *Bucket) Put(key string, content []byte, contentType string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objects[key] = object{content: bytes.Clone(content), contentType: contentType}
}

// Delete removes an object (absent is fine).
func (b *Bucket) Delete(_ context.Context, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.objects, key)
	return nil
}

// CopyIfMatch copies src to dst, with tags, if src's ETag is still etag.
func (b *Bucket) CopyIfMatch(_ context.Context, src, etag, dst string, tags map[string]string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.objects[src]
	switch {
	case !ok:
		return blob.ErrObjectGone
	case etagOf(o.content) != etag:
		return blob.ErrObjectChanged
	}
	b.objects[dst] = object{content: o.content, contentType: o.contentType, tags: maps.Clone(tags)}
	return nil
}

// etagOf is S3's ETag of a single-part object: its quoted MD5.
func etagOf(content []byte) string { return fmt.Sprintf("%q", fmt.Sprintf("%x", md5.Sum(content))) }

// Tags returns an object's tags (nil if it does not exist).
func (b *Bucket) Tags(key string) map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.objects[key].tags)
}

// Head reads an object's metadata.
func (b *Bucket) Head(_ context.Context, key string) (blob.ObjectInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.objects[key]
	if !ok {
		return blob.ObjectInfo{}, blob.ErrObjectGone
	}
	return o.info(), nil
}

func (o object) info() blob.ObjectInfo {
	return blob.ObjectInfo{Size: int64(len(o.content)), ContentType: o.contentType, ETag: etagOf(o.content)}
}

// Open streams an object's content, with its metadata.
func (b *Bucket) Open(_ context.Context, key string) (io.ReadCloser, blob.ObjectInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.objects[key]
	if !ok {
		return nil, blob.ObjectInfo{}, blob.ErrObjectGone
	}
	return io.NopCloser(bytes.NewReader(o.content)), o.info(), nil
}

// Tag replaces an object's tags.
func (b *Bucket) Tag(_ context.Context, key string, tags map[string]string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.objects[key]
	if !ok {
		return blob.ErrObjectGone
	}
	o.tags = maps.Clone(tags)
	b.objects[key] = o
	return nil
}

// Fetch follows a presigned GET URL of the bucket, as an app does.
func (b *Bucket) Fetch(rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || !strings.HasPrefix(rawURL, URL) || u.Query().Get("X-Amz-Expires") == "" {
		return nil, fmt.Errorf("apitest bucket: %q is not a presigned GET URL of the bucket", rawURL)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.objects[strings.TrimPrefix(u.Path, "/")]
	if !ok {
		return nil, blob.ErrObjectGone
	}
	return bytes.Clone(o.content), nil
}
