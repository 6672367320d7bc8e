package localstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Dummy credentials: versitygw's root keys locally, and what the functions
// sign with. They open nothing outside this machine.
const (
	AccessKeyID     = "microcertlocal"
	SecretAccessKey = "microcert-local-secret-key"
	Region          = "us-east-1"
	AccountID       = "000000000000"
)

// objectStore is versitygw with its posix backend: it keeps the files under
// the state dir by itself, so uploads survive a restart.
type objectStore struct {
	child  *child
	url    string
	client *s3.Client
}

// startObjectStore starts versitygw on addr; port 0 picks a free port (and
// picks again if another process takes it first).
func startObjectStore(ctx context.Context, bin, dir, addr, hookURL string, logw io.Writer, logger *slog.Logger) (*objectStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	pick, attempts := func() ([]string, error) { return []string{addr}, nil }, 1
	if strings.HasSuffix(addr, ":0") {
		pick, attempts = func() ([]string, error) { return freeAddrs(1) }, 5
	}
	c, addrs, err := startOnFreePorts(ctx, attempts, pick, func(addrs []string) (*child, error) {
		cmd := exec.Command(bin, "-q", "--port", addrs[0], "--event-webhook-url", hookURL, "posix", abs)
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"),
			"ROOT_ACCESS_KEY=" + AccessKeyID,
			"ROOT_SECRET_KEY=" + SecretAccessKey,
		}
		cmd.Stdout, cmd.Stderr = logw, logw
		cmd.WaitDelay = 2 * time.Second
		return startChild("versitygw", cmd)
	}, 30*time.Second, logger)
	if err != nil {
		return nil, err
	}
	o := &objectStore{child: c, url: "http://" + addrs[0]}
	o.client = newS3Client(o.url)
	return o, nil
}

// newS3Client is a client of the local S3 with the dummy credentials.
func newS3Client(url string) *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(url),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		// versitygw and presigned POSTs do without the default checksums.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// ensureBucket creates the bucket unless a previous run did.
func (o *objectStore) ensureBucket(ctx context.Context, name string) error {
	_, err := o.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	var owned *s3types.BucketAlreadyOwnedByYou
	var exists *s3types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("s3: create bucket %s: %w", name, err)
	}
	return nil
}

func (o *objectStore) stop() {
	if o != nil {
		o.child.stop(3 * time.Second)
	}
}
