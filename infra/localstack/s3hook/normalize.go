// Package s3hook turns the event JSON that versitygw posts to its webhook into
// the S3 event notification JSON that AWS delivers to Lambda, so that
// DocCheckFunction parses the same bytes locally as in AWS.
//
// versitygw's events differ from AWS's: eventName
// carries an "s3:" prefix, the key is not URL-encoded, the eTag is quoted, the
// bucket ARN has a stray "/" and the object path, glacierEventData holds an
// empty time that aws-lambda-go cannot parse, the sequencer is a small counter,
// and a presigned POST upload has an empty key (the caller recovers it).
package s3hook

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrTestEvent is returned for the test event versitygw posts at start.
var ErrTestEvent = errors.New("s3hook: test event")

// Event is an S3 event notification in AWS's form.
type Event struct {
	Records []Record `json:"Records"`
}

// Record is one S3 event record in AWS's form (eventVersion 2.1).
type Record struct {
	EventVersion      string            `json:"eventVersion"`
	EventSource       string            `json:"eventSource"`
	AWSRegion         string            `json:"awsRegion"`
	EventTime         string            `json:"eventTime"`
	EventName         string            `json:"eventName"`
	UserIdentity      Identity          `json:"userIdentity"`
	RequestParameters RequestParameters `json:"requestParameters"`
	ResponseElements  map[string]string `json:"responseElements"`
	S3                Entity            `json:"s3"`
}

// Identity names a principal.
type Identity struct {
	PrincipalID string `json:"principalId"`
}

// RequestParameters holds the caller's address.
type RequestParameters struct {
	SourceIPAddress string `json:"sourceIPAddress"`
}

// Entity is the s3 part of a record.
type Entity struct {
	SchemaVersion   string `json:"s3SchemaVersion"`
	ConfigurationID string `json:"configurationId"`
	Bucket          Bucket `json:"bucket"`
	Object          Object `json:"object"`
}

// Bucket is the bucket of a record.
type Bucket struct {
	Name          string   `json:"name"`
	OwnerIdentity Identity `json:"ownerIdentity"`
	ARN           string   `json:"arn"`
}

// Object is the object of a record. Key is URL-encoded the way AWS does it.
type Object struct {
	Key       string `json:"key"`
	Size      int64  `json:"size"`
	ETag      string `json:"eTag,omitempty"`
	VersionID string `json:"versionId,omitempty"`
	Sequencer string `json:"sequencer"`
}

// Options adjust the normalization.
type Options struct {
	// SequencerBase is added to versitygw's counter, which restarts at 1 with
	// every versitygw process. A base that grows across restarts (e.g. the
	// start time) keeps sequencers increasing for a key, as AWS's do.
	SequencerBase uint64
	// Region is used when the event names none.
	Region string
}

// SequencerWidth is the fixed width of normalized sequencers (AWS's are 18
// upper-case hex digits). Equal widths let the AWS rule (pad, then compare as
// strings) work on them unchanged.
const SequencerWidth = 18

// raw is versitygw's event shape, as loose as it needs to be.
type raw struct {
	Event   string `json:"Event"`
	Records []struct {
		EventVersion string `json:"eventVersion"`
		EventSource  string `json:"eventSource"`
		AWSRegion    string `json:"awsRegion"`
		EventTime    string `json:"eventTime"`
		EventName    string `json:"eventName"`
		UserIdentity struct {
			PrincipalID string `json:"PrincipalId"`
		} `json:"userIdentity"`
		RequestParameters struct {
			SourceIPAddress string `json:"sourceIPAddress"`
		} `json:"requestParameters"`
		ResponseElements map[string]string `json:"responseElements"`
		S3               struct {
			SchemaVersion   string `json:"s3SchemaVersion"`
			ConfigurationID string `json:"configurationId"`
			Bucket          struct {
				Name          string `json:"name"`
				OwnerIdentity struct {
					PrincipalID string `json:"PrincipalId"`
				} `json:"ownerIdentity"`
			} `json:"bucket"`
			Object struct {
				Key       string  `json:"key"`
				Size      int64   `json:"size"`
				ETag      *string `json:"eTag"`
				VersionID *string `json:"versionId"`
				Sequencer string  `json:"sequencer"`
			} `json:"object"`
		} `json:"s3"`
	} `json:"Records"`
}

// Normalize parses a versitygw webhook body into an AWS S3 event. It returns
// ErrTestEvent for versitygw's start-up test event.
func Normalize(body []byte, o Options) (Event, error) {
	var r raw
	if err := json.Unmarshal(body, &r); err != nil {
		return Event{}, fmt.Errorf("s3hook: %w", err)
	}
	if r.Event == "s3:TestEvent" {
		return Event{}, ErrTestEvent
	}
	if len(r.Records) == 0 {
		return Event{}, errors.New("s3hook: no records")
	}
	out := Event{Records: make([]Record, 0, len(r.Records))}
	for _, in := range r.Records {
		if !validBucket(in.S3.Bucket.Name) {
			return Event{}, fmt.Errorf("s3hook: bucket name %q", in.S3.Bucket.Name)
		}
		if !strings.HasPrefix(in.EventName, "s3:") {
			return Event{}, fmt.Errorf("s3hook: unexpected eventName %q", in.EventName)
		}
		t, err := time.Parse(time.RFC3339Nano, in.EventTime)
		if err != nil {
			return Event{}, fmt.Errorf("s3hook: eventTime: %w", err)
		}
		seq, err := strconv.ParseUint(in.S3.Object.Sequencer, 16, 64)
		if err != nil {
			return Event{}, fmt.Errorf("s3hook: sequencer %q: %w", in.S3.Object.Sequencer, err)
		}
		region := in.AWSRegion
		if region == "" {
			region = o.Region
		}
		rec := Record{
			EventVersion:      "2.1",
			EventSource:       "aws:s3",
			AWSRegion:         region,
			EventTime:         t.UTC().Format("2006-01-02T15:04:05.000Z"),
			EventName:         strings.TrimPrefix(in.EventName, "s3:"),
			UserIdentity:      Identity{PrincipalID: in.UserIdentity.PrincipalID},
			RequestParameters: RequestParameters{SourceIPAddress: in.RequestParameters.SourceIPAddress},
			ResponseElements:  map[string]string{},
			S3: Entity{
				SchemaVersion:   "1.0",
				ConfigurationID: in.S3.ConfigurationID,
				Bucket: Bucket{
					Name:          in.S3.Bucket.Name,
					OwnerIdentity: Identity{PrincipalID: in.S3.Bucket.OwnerIdentity.PrincipalID},
					ARN:           "arn:aws:s3:::" + in.S3.Bucket.Name,
				},
				Object: Object{
					// versitygw reports the key already decoded.
					Key:       EncodeKey(in.S3.Object.Key),
					Size:      in.S3.Object.Size,
					Sequencer: fmt.Sprintf("%0*X", SequencerWidth, o.SequencerBase+seq),
				},
			},
		}
		for k, v := range in.ResponseElements {
			rec.ResponseElements[k] = v
		}
		if e := in.S3.Object.ETag; e != nil {
			rec.S3.Object.ETag = strings.Trim(*e, `"`)
		}
		if v := in.S3.Object.VersionID; v != nil && *v != "" && *v != "null" {
			rec.S3.Object.VersionID = *v
		}
		out.Records = append(out.Records, rec)
	}
	return out, nil
}

// validBucket accepts the characters of S3 bucket names (and versitygw's laxer
// upper case and underscore); anything else would corrupt the ARN.
func validBucket(name string) bool {
	if len(name) < 1 || len(name) > 255 {
		return false
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

// EncodeKey URL-encodes an object key the way S3 event notifications do:
// form encoding (a space becomes "+") of each path segment, slashes kept.
func EncodeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.QueryEscape(s)
	}
	return strings.Join(segs, "/")
}

// DecodedKey returns the object key as stored.
func (r Record) DecodedKey() string {
	k, err := url.QueryUnescape(r.S3.Object.Key)
	if err != nil {
		return r.S3.Object.Key
	}
	return k
}

// SetKey stores a decoded key in AWS's encoded form.
func (r *Record) SetKey(key string) { r.S3.Object.Key = EncodeKey(key) }
