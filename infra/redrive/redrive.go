// Package redrive sends the S3 events that DocCheckFunction failed three
// times back to it. Lambda's on-failure destination keeps each such event in
// a record ({"requestContext":..., "requestPayload": <the S3 event>, ...}):
// in the stack's SQS dead-letter queue in AWS, in <state>/dlq/<function>/
// locally. Each record's requestPayload is invoked again; a record leaves
// its queue (or folder) only once the function has taken the event, so an
// interrupted redrive can simply be run again. Redriving twice is harmless:
// the check records one result per object version (the sequencer
// condition), so a second delivery is a duplicate.
//
//	make redrive STACK=microcert-prod   # AWS (credentials as for sam deploy)
//	make redrive                        # the local stack (.local)
package redrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Letter is one dead-letter record.
type Letter struct {
	ID     string // the message id or the file name
	Record []byte // the on-failure destination's record
	handle string // what Source.Done needs to remove it
}

// Source holds the dead letters.
type Source interface {
	// Next returns the next letters, none when there are no more. A letter
	// returned once is not returned again by the same Source.
	Next(ctx context.Context) ([]Letter, error)
	// Done removes a letter whose event the function has taken.
	Done(ctx context.Context, l Letter) error
}

// Invoker hands an event to the function.
type Invoker interface {
	Invoke(ctx context.Context, event []byte) error
}

// Result counts what a redrive did.
type Result struct {
	Redriven int // invoked and removed
	Failed   int // invoked in vain, or unreadable: still there
}

// Payload is the event a record holds (its requestPayload).
func Payload(record []byte) ([]byte, error) {
	var r struct {
		RequestPayload json.RawMessage `json:"requestPayload"`
	}
	if err := json.Unmarshal(record, &r); err != nil {
		return nil, fmt.Errorf("not an on-failure destination record: %w", err)
	}
	if len(r.RequestPayload) == 0 || string(r.RequestPayload) == "null" {
		return nil, errors.New("the record has no requestPayload")
	}
	return r.RequestPayload, nil
}

// Run redrives every letter of src through inv. With dryRun it only lists
// them. Each letter is reported on out. A failed letter stays where it was;
// Run goes on with the others and reports the count.
func Run(ctx context.Context, src Source, inv Invoker, dryRun bool, out io.Writer) (Result, error) {
	var res Result
	for {
		letters, err := src.Next(ctx)
		if err != nil {
			return res, err
		}
		if len(letters) == 0 {
			return res, nil
		}
		for _, l := range letters {
			payload, err := Payload(l.Record)
			if err == nil && dryRun {
				fmt.Fprintf(out, "would redrive %s: %s\n", l.ID, keysOf(payload))
				continue
			}
			if err == nil {
				err = inv.Invoke(ctx, payload)
			}
			if err == nil {
				err = src.Done(ctx, l)
			}
			if err != nil {
				res.Failed++
				fmt.Fprintf(out, "FAILED %s: %v (left in place)\n", l.ID, err)
				continue
			}
			res.Redriven++
			fmt.Fprintf(out, "redriven %s: %s\n", l.ID, keysOf(payload))
		}
	}
}

// keysOf names the objects of an S3 event, for the report.
func keysOf(event []byte) string {
	var ev struct {
		Records []struct {
			S3 struct {
				Object struct {
					Key string `json:"key"`
				} `json:"object"`
			} `json:"s3"`
		} `json:"Records"`
	}
	if json.Unmarshal(event, &ev) != nil || len(ev.Records) == 0 {
		return "(not an S3 event)"
	}
	keys := ""
	for i, r := range ev.Records {
		if i > 0 {
			keys += ", "
		}
		keys += r.S3.Object.Key
	}
	return keys
}
