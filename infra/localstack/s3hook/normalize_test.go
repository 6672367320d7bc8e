package s3hook

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		file string
		base uint64
		want Object
		name string // eventName
	}{
		{
			file: "versitygw-put.json",
			want: Object{Key: "uploads/c1/d1", Size: 11, ETag: "5eb63bbbe01eeed093cb22bb8f5acdc3", Sequencer: "000000000000000002"},
			name: "ObjectCreated:Put",
		},
		{
			file: "versitygw-put-special-key.json",
			base: 0x1000,
			want: Object{Key: "uploads/case+1/doc%2Bx%3D1%C3%A9", Size: 5, ETag: "5d41402abc4b2a76b9719d911017c592", Sequencer: "000000000000001001"},
			name: "ObjectCreated:Put",
		},
		{
			// A presigned POST: versitygw leaves the key empty; the caller recovers it.
			file: "versitygw-post.json",
			want: Object{Key: "", Size: 14, ETag: "312868ea31829c8a6f7a7684b3f1228a", Sequencer: "000000000000000003"},
			name: "ObjectCreated:Post",
		},
		{
			file: "versitygw-delete.json",
			want: Object{Key: "uploads/c1/d1", Size: 0, Sequencer: "000000000000000004"},
			name: "ObjectRemoved:Delete",
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev, err := Normalize(readTestdata(t, tt.file), Options{SequencerBase: tt.base})
			if err != nil {
				t.Fatal(err)
			}
			if len(ev.Records) != 1 {
				t.Fatalf("%d records", len(ev.Records))
			}
			r := ev.Records[0]
			if d := cmp.Diff(tt.want, r.S3.Object); d != "" {
				t.Errorf("object (-want +got):\n%s", d)
			}
			if r.EventName != tt.name || r.EventVersion != "2.1" || r.EventSource != "aws:s3" {
				t.Errorf("eventName %q version %q source %q", r.EventName, r.EventVersion, r.EventSource)
			}
			if r.S3.Bucket.ARN != "arn:aws:s3:::bkt" || r.S3.Bucket.Name != "bkt" {
				t.Errorf("bucket %+v", r.S3.Bucket)
			}
			if r.EventTime != "2026-11-26T17:20:42.000Z" {
				t.Errorf("eventTime %q", r.EventTime)
			}

			// The bytes parse as aws-lambda-go's S3Event, as DocCheckFunction reads them.
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "glacierEventData") || strings.Contains(string(b), "urlDecodedKey") {
				t.Errorf("fields AWS does not send: %s", b)
			}
			var parsed events.S3Event
			if err := json.Unmarshal(b, &parsed); err != nil {
				t.Fatalf("events.S3Event: %v", err)
			}
			if got := parsed.Records[0].S3.Object.URLDecodedKey; got != r.DecodedKey() {
				t.Errorf("URLDecodedKey %q, DecodedKey %q", got, r.DecodedKey())
			}
		})
	}
}

func TestNormalizeTestEvent(t *testing.T) {
	if _, err := Normalize(readTestdata(t, "versitygw-test-event.json"), Options{}); !errors.Is(err, ErrTestEvent) {
		t.Fatalf("err = %v, want ErrTestEvent", err)
	}
}

func TestNormalizeRejects(t *testing.T) {
	for _, body := range []string{
		``, `{}`, `{"Records":[]}`, `[1]`,
		`{"Records":[{"eventName":"ObjectCreated:Put","eventTime":"2026-11-26T17:20:42Z","s3":{"bucket":{"name":"b"},"object":{"sequencer":"1"}}}]}`,
		`{"Records":[{"eventName":"s3:ObjectCreated:Put","eventTime":"yesterday","s3":{"bucket":{"name":"b"},"object":{"sequencer":"1"}}}]}`,
		`{"Records":[{"eventName":"s3:ObjectCreated:Put","eventTime":"2026-11-26T17:20:42Z","s3":{"bucket":{"name":"b"},"object":{"sequencer":"xyz"}}}]}`,
		`{"Records":[{"eventName":"s3:ObjectCreated:Put","eventTime":"2026-11-26T17:20:42Z","s3":{"bucket":{"name":""},"object":{"sequencer":"1"}}}]}`,
	} {
		if _, err := Normalize([]byte(body), Options{}); err == nil {
			t.Errorf("Normalize(%q) accepted it", body)
		}
	}
}

func TestEncodeKey(t *testing.T) {
	tests := map[string]string{
		"uploads/c1/d1":          "uploads/c1/d1",
		"uploads/a b/c":          "uploads/a+b/c",
		"uploads/a+b/c":          "uploads/a%2Bb/c",
		"uploads/x=1&y/%":        "uploads/x%3D1%26y/%25",
		"uploads/证件/正面.jpg":      "uploads/%E8%AF%81%E4%BB%B6/%E6%AD%A3%E9%9D%A2.jpg",
		"uploads//double-slash/": "uploads//double-slash/",
	}
	for in, want := range tests {
		if got := EncodeKey(in); got != want {
			t.Errorf("EncodeKey(%q) = %q, want %q", in, got, want)
		}
		r := Record{}
		r.SetKey(in)
		if r.DecodedKey() != in {
			t.Errorf("round trip of %q gave %q", in, r.DecodedKey())
		}
	}
}

// Sequencers compare as AWS says (pad, then compare strings) across a
// versitygw restart when the base grows.
func TestSequencerOrder(t *testing.T) {
	put := readTestdata(t, "versitygw-put.json") // counter 2
	before, _ := Normalize(put, Options{SequencerBase: 1 << 40})
	after, _ := Normalize(put, Options{SequencerBase: 2 << 40})
	a, b := before.Records[0].S3.Object.Sequencer, after.Records[0].S3.Object.Sequencer
	if len(a) != SequencerWidth || len(b) != SequencerWidth || !(a < b) {
		t.Errorf("sequencers %q then %q", a, b)
	}
	if strings.ToUpper(a) != a {
		t.Errorf("sequencer %q is not upper-case", a)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, name := range []string{"versitygw-put.json", "versitygw-put-special-key.json", "versitygw-post.json", "versitygw-delete.json", "versitygw-test-event.json"} {
		f.Add(readTestdata(f, name))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := Normalize(body, Options{SequencerBase: 12345})
		if err != nil {
			return
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var parsed events.S3Event
		if err := json.Unmarshal(b, &parsed); err != nil {
			t.Fatalf("normalized event does not parse as events.S3Event: %v\n%s", err, b)
		}
		for i, r := range ev.Records {
			if !strings.HasPrefix(r.S3.Bucket.ARN, "arn:aws:s3:::") || strings.Contains(r.S3.Bucket.ARN, "/") {
				t.Errorf("bucket ARN %q", r.S3.Bucket.ARN)
			}
			if strings.HasPrefix(r.EventName, "s3:") {
				t.Errorf("eventName %q", r.EventName)
			}
			if len(r.S3.Object.Sequencer) < SequencerWidth {
				t.Errorf("sequencer %q", r.S3.Object.Sequencer)
			}
			if got := parsed.Records[i].S3.Object.URLDecodedKey; got != r.DecodedKey() {
				t.Errorf("key %q decodes to %q, want %q", r.S3.Object.Key, got, r.DecodedKey())
			}
		}
	})
}
